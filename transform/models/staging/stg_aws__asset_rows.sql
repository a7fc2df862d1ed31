{#
  Every asset stream's records in one shape, one row per asset_id (the record's arn):
  the partition a record belongs to (`partition_region`: the record's region, "global" for
  accounts), its latest `synced_at`, and what aws_assets shows. Streams whose table is missing
  are left out.
#}
{%- set accounts = tap_aws_uvm.optional_source('accounts') -%}
{%- set ec2 = tap_aws_uvm.optional_source('ec2_instances') -%}
{%- set ecr = tap_aws_uvm.optional_source('ecr_images') -%}
{%- set eks = tap_aws_uvm.optional_source('eks_clusters') -%}
{%- set rds = tap_aws_uvm.optional_source('rds_instances') -%}
{%- set s3 = tap_aws_uvm.optional_source('s3_buckets') -%}
{%- set network = tap_aws_uvm.optional_source('network') -%}
{%- set empty_ips = tap_aws_uvm.empty_string_array() %}
-- depends_on: {{ ref('stg_aws__instance_public_ips') }}

with

{% if ec2 is not none %}
instance_public_ips as (
    select instance_arn, array_agg(distinct public_ip order by public_ip) as public_ips
    from {{ ref('stg_aws__instance_public_ips') }}
    group by instance_arn
),
{% endif %}

asset_rows as (
    select
        cast(null as varchar) as asset_id,
        cast(null as varchar) as asset_type,
        cast(null as varchar) as stream,
        cast(null as varchar) as resource_id,
        cast(null as varchar) as account_id,
        cast(null as varchar) as region,
        cast(null as varchar) as partition_region,
        cast(null as varchar) as name,
        cast(null as varchar) as state,
        {{ tap_aws_uvm.null_json() }} as tags,
        {{ empty_ips }} as public_ips,
        false as is_public,
        cast(null as timestamp) as synced_at
    where 1 = 0

{% if accounts is not none %}
    union all
    select
        arn,
        'account',
        'accounts',
        id,
        id,
        cast(null as varchar),
        'global',
        name,
        coalesce(state, status),
        {{ tap_aws_uvm.as_json('tags') }},
        {{ empty_ips }},
        false,
        synced_at
    from {{ accounts }}
{% endif %}

{% if ec2 is not none %}
    union all
    select
        i.arn,
        'ec2_instance',
        'ec2_instances',
        i.instance_id,
        i.account_id,
        i.region,
        i.region,
        coalesce({{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('i.tags'), 'Name') }}, i.instance_id),
        {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('i.state'), 'Name') }},
        {{ tap_aws_uvm.as_json('i.tags') }},
        coalesce(ips.public_ips, {{ empty_ips }}),
        ips.public_ips is not null,
        i.synced_at
    from {{ ec2 }} as i
    left join instance_public_ips as ips on ips.instance_arn = i.arn
{% endif %}

{% if ecr is not none %}
    union all
    select
        arn,
        'ecr_image',
        'ecr_images',
        image_digest,
        account_id,
        region,
        region,
        repository_name || coalesce(
            ':' || ({{ tap_aws_uvm.string_array('image_tags') }})[1], '@' || image_digest
        ),
        image_status,
        {{ tap_aws_uvm.null_json() }},
        {{ empty_ips }},
        false,
        synced_at
    from {{ ecr }}
{% endif %}

{% if eks is not none %}
    union all
    select
        arn,
        'eks_cluster',
        'eks_clusters',
        name,
        account_id,
        region,
        region,
        name,
        status,
        {{ tap_aws_uvm.as_json('tags') }},
        {{ empty_ips }},
        coalesce(
            {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('resources_vpc_config'),
                                     'endpointPublicAccess') }} = 'true',
            false
        ),
        synced_at
    from {{ eks }}
{% endif %}

{% if rds is not none %}
    union all
    select
        arn,
        'rds_instance',
        'rds_instances',
        db_instance_identifier,
        account_id,
        region,
        region,
        db_instance_identifier,
        db_instance_status,
        {{ tap_aws_uvm.as_json('tags') }},
        {{ empty_ips }},
        coalesce(publicly_accessible, false),
        synced_at
    from {{ rds }}
{% endif %}

{% if s3 is not none %}
    union all
    select
        arn,
        's3_bucket',
        's3_buckets',
        name,
        account_id,
        region,
        coalesce(region, 'global'),
        name,
        cast(null as varchar),
        {{ tap_aws_uvm.null_json() }},
        {{ empty_ips }},
        false,
        synced_at
    from {{ s3 }}
{% endif %}

{% if network is not none %}
    union all
    select
        arn,
        case data_type
            when 'vpc_cidrs' then 'vpc'
            when 'vpc_subnets' then 'subnet'
            when 'addresses' then 'elastic_ip'
            when 'internet_gateways' then 'internet_gateway'
            when 'nat_gateways' then 'nat_gateway'
            when 'load_balancers' then 'load_balancer'
            when 'network_interfaces' then 'network_interface'
            else data_type
        end,
        'network',
        resource_id,
        account_id,
        region,
        region,
        coalesce(
            {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('tags'), 'Name') }},
            {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('load_balancer'), 'LoadBalancerName') }},
            {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('classic_load_balancer'),
                                     'LoadBalancerName') }},
            resource_id
        ),
        state,
        {{ tap_aws_uvm.as_json('tags') }},
        coalesce({{ tap_aws_uvm.string_array('public_ips') }}, {{ empty_ips }}),
        case
            when data_type = 'load_balancers' then coalesce(
                {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('load_balancer'), 'Scheme') }},
                {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('classic_load_balancer'), 'Scheme') }}
            ) = 'internet-facing'
            else {{ tap_aws_uvm.array_size(tap_aws_uvm.string_array('public_ips')) }} > 0
        end,
        synced_at
    from {{ network }}
{% endif %}
),

ranked as (
    select
        *,
        row_number() over (partition by asset_id order by synced_at desc) as row_rank
    from asset_rows
    where asset_id is not null
)

select
    asset_id,
    asset_type,
    stream,
    resource_id,
    account_id,
    region,
    partition_region,
    name,
    state,
    tags,
    public_ips,
    coalesce(is_public, false) as is_public,
    synced_at
from ranked
where row_rank = 1
