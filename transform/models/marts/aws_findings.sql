{#
  One row per distinct finding across every finding stream: an Inspector finding seen
  through Inspector, Security Hub (ASFF and OCSF) and ECR's enhanced scanning is one row, its
  `sources` the streams it came from. Attributes come from the best source (Inspector, then
  Security Hub, then ECR; the latest update among equals); ids and resources are the union of
  every source's. has_asset: the finding names at least one resource and every one is in
  aws_assets (deleted assets included), so findings on resources outside the inventory stay
  visible here and can be listed with `where not has_asset`.
#}
with

finding_rows as (
    select * from {{ ref('stg_aws__finding_rows') }}
),

best as (
    select
        *,
        row_number() over (
            partition by finding_id
            order by source_rank, updated_at desc nulls last, account_id, region
        ) as source_order
    from finding_rows
),

summary as (
    select
        finding_id,
        array_agg(distinct source order by source) as sources,
        min(first_observed_at) as first_observed_at,
        max(last_observed_at) as last_observed_at,
        max(updated_at) as updated_at
    from finding_rows
    group by finding_id
),

vulnerability_ids as (
    select
        r.finding_id,
        array_agg(distinct v.vulnerability_id order by v.vulnerability_id) as vulnerability_ids
    from finding_rows as r
    cross join unnest(r.vulnerability_ids) as v (vulnerability_id)
    where v.vulnerability_id is not null and v.vulnerability_id <> ''
    group by r.finding_id
),

resource_ids as (
    select distinct r.finding_id, u.resource_id
    from finding_rows as r
    cross join unnest(r.resource_ids) as u (resource_id)
    where u.resource_id is not null and u.resource_id <> ''
),

resources as (
    select
        ids.finding_id,
        array_agg(ids.resource_id order by ids.resource_id) as resource_ids,
        count(*) = count(a.asset_id) as every_resource_known
    from resource_ids as ids
    left join {{ ref('aws_assets') }} as a on a.asset_id = ids.resource_id
    group by ids.finding_id
)

select
    b.finding_id,
    s.sources,
    b.title,
    b.severity_label,
    b.severity_score,
    b.finding_status,
    coalesce(v.vulnerability_ids, {{ tap_aws_uvm.empty_string_array() }}) as vulnerability_ids,
    coalesce(r.resource_ids, {{ tap_aws_uvm.empty_string_array() }}) as resource_ids,
    coalesce(r.every_resource_known, false) as has_asset,
    b.account_id,
    b.region,
    s.first_observed_at,
    s.last_observed_at,
    s.updated_at
from best as b
inner join summary as s on s.finding_id = b.finding_id
left join vulnerability_ids as v on v.finding_id = b.finding_id
left join resources as r on r.finding_id = b.finding_id
where b.source_order = 1
