{#
  One row per (asset, finding): every resource a finding names that is in aws_assets.
#}
select distinct
    a.asset_id,
    f.finding_id
from {{ ref('aws_findings') }} as f
cross join unnest(f.resource_ids) as r (resource_id)
inner join {{ ref('aws_assets') }} as a on a.asset_id = r.resource_id
