{#
  The tap's tables that exist in the warehouse. A stream that is not selected (or not yet
  synced: inspector_coverage, securityhub_ocsf_findings) has no table, and the models then
  leave it out instead of failing. source() is called either way, so dbt's graph lists it.
#}

{% macro optional_source(table) -%}
  {%- set declared = source('tap_aws_uvm', table) -%}
  {%- if not execute -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(adapter.get_relation(
      database=declared.database, schema=declared.schema, identifier=declared.identifier)) }}
{%- endmacro %}


{# The column names of a relation, lower-cased. #}
{% macro column_names(relation) -%}
  {%- if relation is none -%}
    {{ return([]) }}
  {%- endif -%}
  {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}


{# Fail with one clear line when the source schema holds none of the tap's tables (a wrong
   DBT_SOURCE_SCHEMA would otherwise build empty models). #}
{% macro require_tap_tables() -%}
  {%- if execute -%}
    {%- set found = [] -%}
    {%- for table in graph.sources.values() | selectattr('source_name', 'equalto', 'tap_aws_uvm') -%}
      {%- if tap_aws_uvm.optional_source(table.name) is not none -%}
        {%- do found.append(table.name) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if not found -%}
      {%- set schema = source('tap_aws_uvm', 'accounts').schema -%}
      {{ exceptions.raise_compiler_error(
          "no tap-aws-uvm table in schema '" ~ schema ~ "' (set DBT_SOURCE_SCHEMA, or the "
          ~ "loader's DEFAULT_TARGET_SCHEMA, to the schema the tap was loaded into)") }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
