-- An asset cannot have been first seen after it was last seen.
select asset_id, first_seen_at, last_seen_at
from {{ ref('aws_assets') }}
where first_seen_at > last_seen_at
