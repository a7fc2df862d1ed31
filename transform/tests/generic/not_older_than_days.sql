{#
  Rows whose `column_name` is older than `days` days before now (UTC). Null (never) passes:
  a partition that was never `ok` (a suspended account, a service not enabled) is not stale.
#}
{% test not_older_than_days(model, column_name, days) %}
select *
from {{ model }}
where {{ column_name }} < {{ dbt.dateadd('day', -1 * (days | int), tap_aws_uvm.utc_now()) }}
{% endtest %}
