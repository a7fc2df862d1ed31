{#
  Inspector's coverage of each asset (stream inspector_coverage, one entry per resource and
  scan type), one row per asset: `ACTIVE` when any scan type is active, else the entry's status
  (`INACTIVE`), with the reason of the entry shown. Entries name instances by instance id (in
  the resource's own account and the partition's region) and images by their ARN. No
  inspector_coverage table: no rows.
#}
{%- set coverage = tap_aws_uvm.optional_source('inspector_coverage') -%}
{%- set columns = tap_aws_uvm.column_names(coverage) %}
-- depends_on: {{ ref('stg_aws__asset_rows') }}

{% if coverage is none %}
select
    cast(null as varchar) as asset_id,
    cast(null as varchar) as account_id,
    cast(null as varchar) as region,
    cast(null as varchar) as scan_status,
    cast(null as varchar) as scan_reason
where 1 = 0
{% else %}
{%- set own_account = 'coalesce(c.aws_account_id, c.account_id)'
    if 'aws_account_id' in columns else 'c.account_id' -%}
{%- if 'status_code' in columns -%}
  {%- set status = 'c.status_code' -%}
{%- elif 'status' in columns -%}
  {%- set status = 'c.status' -%}
{%- else -%}
  {%- set status = tap_aws_uvm.json_text(tap_aws_uvm.as_json('c.scan_status'), 'statusCode') -%}
{%- endif -%}
{%- if 'reason' in columns -%}
  {%- set reason = 'c.reason' -%}
{%- else -%}
  {%- set reason = tap_aws_uvm.json_text(tap_aws_uvm.as_json('c.scan_status'), 'reason') -%}
{%- endif -%}
with

entries as (
    select
        {{ own_account }} as account_id,
        c.region,
        c.resource_id,
        c.scan_type,
        {{ status }} as scan_status,
        {{ reason }} as scan_reason
    from {{ coverage }} as c
),

matched as (
    select a.asset_id, a.account_id, a.region, e.scan_type, e.scan_status, e.scan_reason
    from entries as e
    inner join {{ ref('stg_aws__asset_rows') }} as a
        on a.asset_id = e.resource_id
    union all
    select a.asset_id, a.account_id, a.region, e.scan_type, e.scan_status, e.scan_reason
    from entries as e
    inner join {{ ref('stg_aws__asset_rows') }} as a
        on a.asset_type = 'ec2_instance'
        and a.resource_id = e.resource_id
        and a.account_id = e.account_id
        and a.region = e.region
),

ranked as (
    select
        *,
        row_number() over (
            partition by asset_id
            order by
                case when scan_status = 'ACTIVE' then 0 else 1 end,
                case when scan_type = 'PACKAGE' then 0 else 1 end,
                scan_type
        ) as entry_rank
    from matched
)

select asset_id, account_id, region, scan_status, scan_reason
from ranked
where entry_rank = 1
{% endif %}
