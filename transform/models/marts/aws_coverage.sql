{#
  One row per partition (stream, account, region) of sync_coverage: its latest outcome, and
  when it last ended `ok` (null: never). Shards write different partitions, so each
  partition's latest row is its own shard's. Suspended and not-entered accounts appear with
  region "global", once per stream.
#}
{%- set runs = tap_aws_uvm.optional_source('sync_coverage') -%}

{% if runs is none %}
select
    cast(null as varchar) as stream,
    cast(null as varchar) as account_id,
    cast(null as varchar) as region,
    cast(null as varchar) as outcome,
    cast(null as varchar) as error_code,
    cast(null as varchar) as error_message,
    cast(null as bigint) as records,
    cast(null as timestamp) as synced_at,
    cast(null as timestamp) as last_ok_at
where 1 = 0
{% else %}
with ranked as (
    select
        stream,
        account_id,
        region,
        outcome,
        error_code,
        error_message,
        records,
        synced_at,
        max(case when outcome = 'ok' then synced_at end)
            over (partition by stream, account_id, region) as last_ok_at,
        row_number()
            over (partition by stream, account_id, region order by synced_at desc) as run_order
    from {{ runs }}
)

select
    stream,
    account_id,
    region,
    outcome,
    error_code,
    error_message,
    cast(records as bigint) as records,
    synced_at,
    last_ok_at
from ranked
where run_order = 1
{% endif %}
