{#
  Every finding stream's records in one shape: the warehouse columns the tap lifts
  (severity_label, severity_score, vulnerability_ids, resource_ids, finding_status) and the
  finding's identity across streams (finding_id):
    - inspector_findings: finding_arn;
    - securityhub_findings: Id (Inspector's findings arrive with their ARN as Id);
    - securityhub_ocsf_findings: finding_uid (the same ids, in OCSF);
    - ecr_findings: an enhanced finding's finding_id is Inspector's ARN; a basic finding's
      (`name|package|version`) names a vulnerability, not one image, so it is qualified by the
      image: `<image arn>|<name>|<package>|<version>`.
  source_rank orders the sources aws_findings takes a finding's attributes from when it has
  several: Inspector, then Security Hub (ASFF, then OCSF), then ECR.
  account_id and region are the finding's own (not the partition read).
#}
{%- set inspector = tap_aws_uvm.optional_source('inspector_findings') -%}
{%- set asff = tap_aws_uvm.optional_source('securityhub_findings') -%}
{%- set ocsf = tap_aws_uvm.optional_source('securityhub_ocsf_findings') -%}
{%- set ecr = tap_aws_uvm.optional_source('ecr_findings') -%}
{%- set ids = tap_aws_uvm.string_array -%}

with finding_rows as (
    select
        cast(null as varchar) as finding_id,
        cast(null as varchar) as source,
        0 as source_rank,
        cast(null as varchar) as title,
        cast(null as varchar) as severity_label,
        cast(null as double precision) as severity_score,
        cast(null as varchar) as finding_status,
        {{ tap_aws_uvm.empty_string_array() }} as vulnerability_ids,
        {{ tap_aws_uvm.empty_string_array() }} as resource_ids,
        cast(null as varchar) as account_id,
        cast(null as varchar) as region,
        cast(null as timestamp) as first_observed_at,
        cast(null as timestamp) as last_observed_at,
        cast(null as timestamp) as updated_at
    where 1 = 0

{% if inspector is not none %}
    union all
    select
        finding_arn,
        'inspector_findings',
        1,
        title,
        severity_label,
        cast(severity_score as double precision),
        finding_status,
        {{ ids('vulnerability_ids') }},
        {{ ids('resource_ids') }},
        coalesce(aws_account_id, account_id),
        split_part(finding_arn, ':', 4),
        first_observed_at,
        last_observed_at,
        updated_at
    from {{ inspector }}
{% endif %}

{% if asff is not none %}
    union all
    select
        id,
        'securityhub_findings',
        2,
        title,
        severity_label,
        cast(severity_score as double precision),
        finding_status,
        {{ ids('vulnerability_ids') }},
        {{ ids('resource_ids') }},
        coalesce(aws_account_id, account_id),
        coalesce(finding_region, region),
        coalesce(first_observed_at, created_at),
        coalesce(last_observed_at, updated_at),
        updated_at
    from {{ asff }}
{% endif %}

{% if ocsf is not none %}
{%- set columns = tap_aws_uvm.column_names(ocsf) -%}
{%- set document = 'finding' if 'finding' in columns else none -%}
{%- set title = 'title' if 'title' in columns else 'cast(null as varchar)' -%}
{%- set first_seen = 'created_time' if 'created_time' in columns else 'cast(null as timestamp)' -%}
{%- set last_seen = 'cast(null as timestamp)' -%}
{%- if document is not none -%}
  {%- set doc = tap_aws_uvm.as_json(document) -%}
  {%- set title = 'coalesce(' ~ title ~ ', '
                  ~ tap_aws_uvm.json_text(doc, 'finding_info', 'title') ~ ')' -%}
  {%- set first_seen = 'coalesce(cast('
                       ~ tap_aws_uvm.json_text(doc, 'finding_info', 'first_seen_time_dt')
                       ~ ' as timestamp), ' ~ first_seen ~ ')' -%}
  {%- set last_seen = 'cast(' ~ tap_aws_uvm.json_text(doc, 'finding_info', 'last_seen_time_dt')
                      ~ ' as timestamp)' -%}
{%- endif %}
    union all
    select
        finding_uid,
        'securityhub_ocsf_findings',
        3,
        {{ title }},
        severity_label,
        cast(severity_score as double precision),
        finding_status,
        {{ ids('vulnerability_ids') }},
        {{ ids('resource_ids') }},
        coalesce(aws_account_id, account_id),
        coalesce(finding_region, region),
        {{ first_seen }},
        coalesce({{ last_seen }}, modified_time),
        modified_time
    from {{ ocsf }}
{% endif %}

{% if ecr is not none %}
    union all
    select
        case
            when finding_id like 'arn:%' then finding_id
            else coalesce(
                ({{ ids('resource_ids') }})[1],
                account_id || ':' || region || ':' || repository_name || '@' || image_digest
            ) || '|' || finding_id
        end,
        'ecr_findings',
        4,
        coalesce(title, name || coalesce(' - ' || package_name, '')),
        severity_label,
        cast(severity_score as double precision),
        finding_status,
        {{ ids('vulnerability_ids') }},
        {{ ids('resource_ids') }},
        account_id,
        region,
        coalesce(first_observed_at, image_scan_completed_at),
        coalesce(last_observed_at, image_scan_completed_at),
        coalesce(updated_at, image_scan_completed_at)
    from {{ ecr }}
{% endif %}
)

select *
from finding_rows
where finding_id is not null
