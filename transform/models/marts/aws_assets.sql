{#
  One row per resource of any type, accounts included (asset_id: the resource's arn).

  is_deleted (README "Warehouse models"): a resource stops counting once a later sync's
  partition for it ended `ok` and did not emit it. The raw tables are upserted, so a record's
  synced_at is the last sync that emitted it; a partition (stream, account, region) of
  sync_coverage that is `ok` and later than that did not. A denied, failed or unreachable
  partition, or another shard's run (other partitions), deletes nothing. `accounts` is one
  partition per organization: an `ok` listing later than an account's record, by a role in the
  same organization (the organization id in the account ARNs), deletes it.

  first_seen_at survives the targets' upserts: this model is incremental and keeps the value
  it had (full_refresh is off, so `dbt build --full-refresh` keeps it too).
#}
{{ config(
    materialized='incremental',
    unique_key='asset_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false,
) }}
{%- do tap_aws_uvm.require_tap_tables() -%}
{%- set runs = tap_aws_uvm.optional_source('sync_coverage') -%}

with

asset_rows as (
    select * from {{ ref('stg_aws__asset_rows') }}
),

{% if runs is not none %}
ok_runs as (
    select stream, account_id, region, synced_at
    from {{ runs }}
    where outcome = 'ok'
),

deleted as (
    select r.asset_id
    from asset_rows as r
    inner join ok_runs as c
        on c.stream = r.stream
        and c.account_id = r.account_id
        and c.region = r.partition_region
        and c.synced_at > r.synced_at
    where r.stream <> 'accounts'
    union
    select r.asset_id
    from asset_rows as r
    inner join ok_runs as c
        on c.stream = 'accounts'
        and c.synced_at > r.synced_at
    inner join asset_rows as lister
        on lister.stream = 'accounts'
        and lister.account_id = c.account_id
        and split_part(lister.asset_id, '/', 2) = split_part(r.asset_id, '/', 2)
    where r.stream = 'accounts'
),
{% else %}
deleted as (
    select cast(null as varchar) as asset_id where 1 = 0
),
{% endif %}

scan_status as (
    select * from {{ ref('stg_aws__inspector_scan_status') }}
),

scanned_scopes as (
    select * from {{ ref('stg_aws__inspector_scopes') }}
)

select
    r.asset_id,
    r.asset_type,
    r.account_id,
    r.region,
    r.name,
    r.resource_id,
    r.state,
    r.tags,
    r.public_ips,
    r.is_public,
{% if is_incremental() %}
    coalesce(previous.first_seen_at, r.synced_at) as first_seen_at,
{% else %}
    r.synced_at as first_seen_at,
{% endif %}
    r.synced_at as last_seen_at,
    d.asset_id is not null as is_deleted,
    case
        when s.asset_id is not null then s.scan_status
        when r.asset_type in ('ec2_instance', 'ecr_image') and scope.account_id is not null
            then 'NOT_COVERED'
    end as inspector_scan_status,
    s.scan_reason as inspector_scan_reason,
    r.stream
from asset_rows as r
left join deleted as d on d.asset_id = r.asset_id
left join scan_status as s on s.asset_id = r.asset_id
left join scanned_scopes as scope
    on scope.account_id = r.account_id and scope.region = r.region
{% if is_incremental() %}
left join {{ this }} as previous on previous.asset_id = r.asset_id
{% endif %}
