{#
  (instance_arn, public_ip): an instance's public IPv4 addresses from the three places AWS
  shows them: the instance itself (its address and its interfaces' associations), the
  network stream's interfaces attached to it, and Elastic IPs associated with it or with one
  of its interfaces.
#}
{%- set ec2 = tap_aws_uvm.optional_source('ec2_instances') -%}
{%- set network = tap_aws_uvm.optional_source('network') -%}

{% if ec2 is none %}
select cast(null as varchar) as instance_arn, cast(null as varchar) as public_ip where 1 = 0
{% else %}
with

instance_interfaces as (
    select
        i.arn as instance_arn,
        i.instance_id,
        i.account_id,
        i.region,
        eni.value as interface
    from {{ ec2 }} as i
    cross join {{ tap_aws_uvm.json_elements(tap_aws_uvm.as_json('i.network_interfaces')) }}
        as eni (value)
),

{% if network is not none %}
network_interfaces as (
    select
        i.arn as instance_arn,
        n.resource_id as interface_id,
        n.public_ips
    from {{ network }} as n
    inner join {{ ec2 }} as i
        on i.account_id = n.account_id
        and i.region = n.region
        and i.instance_id = {{ tap_aws_uvm.json_text(
            tap_aws_uvm.as_json('n.network_interface'), 'Attachment', 'InstanceId') }}
    where n.data_type = 'network_interfaces'
),

interface_ids as (
    select
        instance_arn,
        account_id,
        region,
        {{ tap_aws_uvm.json_text('interface', 'NetworkInterfaceId') }} as interface_id
    from instance_interfaces
    union
    select i.arn, i.account_id, i.region, ni.interface_id
    from network_interfaces as ni
    inner join {{ ec2 }} as i on i.arn = ni.instance_arn
),

elastic_ips as (
    select
        i.arn as instance_arn,
        {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('n.address'), 'PublicIp') }} as public_ip
    from {{ network }} as n
    inner join {{ ec2 }} as i
        on i.account_id = n.account_id
        and i.region = n.region
        and i.instance_id = {{ tap_aws_uvm.json_text(
            tap_aws_uvm.as_json('n.address'), 'InstanceId') }}
    where n.data_type = 'addresses'
    union
    select
        ids.instance_arn,
        {{ tap_aws_uvm.json_text(tap_aws_uvm.as_json('n.address'), 'PublicIp') }}
    from {{ network }} as n
    inner join interface_ids as ids
        on ids.account_id = n.account_id
        and ids.region = n.region
        and ids.interface_id = {{ tap_aws_uvm.json_text(
            tap_aws_uvm.as_json('n.address'), 'NetworkInterfaceId') }}
    where n.data_type = 'addresses'
),
{% endif %}

addresses as (
    select arn as instance_arn, public_ip_address as public_ip
    from {{ ec2 }}
    union
    select instance_arn, {{ tap_aws_uvm.json_text('interface', 'Association', 'PublicIp') }}
    from instance_interfaces
    union
    select ii.instance_arn, {{ tap_aws_uvm.json_text('pip.value', 'Association', 'PublicIp') }}
    from instance_interfaces as ii
    cross join {{ tap_aws_uvm.json_elements(
        tap_aws_uvm.json_get('ii.interface', 'PrivateIpAddresses')) }} as pip (value)
{% if network is not none %}
    union
    select ni.instance_arn, ip.public_ip
    from network_interfaces as ni
    cross join unnest({{ tap_aws_uvm.string_array('ni.public_ips') }}) as ip (public_ip)
    union
    select instance_arn, public_ip
    from elastic_ips
{% endif %}
)

select distinct instance_arn, public_ip
from addresses
where public_ip is not null and public_ip <> ''
{% endif %}
