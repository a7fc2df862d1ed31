{#
  The (account, region) pairs whose Inspector coverage was read: the resources' own accounts
  in inspector_coverage, and every partition of that stream that ended `ok` (it may have had
  no entry at all). An instance or image there with no entry is not covered by Inspector.
#}
{%- set coverage = tap_aws_uvm.optional_source('inspector_coverage') -%}
{%- set runs = tap_aws_uvm.optional_source('sync_coverage') -%}
{%- set columns = tap_aws_uvm.column_names(coverage) -%}

{% if coverage is none %}
select cast(null as varchar) as account_id, cast(null as varchar) as region where 1 = 0
{% else %}
select distinct
    {{ 'coalesce(aws_account_id, account_id)' if 'aws_account_id' in columns else 'account_id' }}
        as account_id,
    region
from {{ coverage }}
{% if runs is not none %}
union
select account_id, region
from {{ runs }}
where stream = 'inspector_coverage' and outcome = 'ok'
{% endif %}
{% endif %}
