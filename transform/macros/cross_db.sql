{#
  Where DuckDB and PostgreSQL differ. The models call these macros and nothing
  adapter-specific; each dispatches on the adapter (default__ is PostgreSQL's form).

  How the targets store what the tap emits:
    - objects: target-duckdb JSON, target-postgres jsonb;
    - arrays of strings: target-duckdb JSON, target-postgres text[];
    - arrays of objects: target-duckdb JSON, target-postgres jsonb[] (not jsonb).
  as_json() turns any of them into one JSON value (json / jsonb) and string_array() into a
  native array (varchar[] / text[]); the models build on those two.
#}

{% macro json_type() -%}
  {{ return(adapter.dispatch('json_type', 'tap_aws_uvm')()) }}
{%- endmacro %}
{% macro default__json_type() %}jsonb{% endmacro %}
{% macro duckdb__json_type() %}json{% endmacro %}


{% macro string_array_type() -%}
  {{ return(adapter.dispatch('string_array_type', 'tap_aws_uvm')()) }}
{%- endmacro %}
{% macro default__string_array_type() %}text[]{% endmacro %}
{% macro duckdb__string_array_type() %}varchar[]{% endmacro %}


{# A raw object or array column (json, jsonb, jsonb[], text[]) as one JSON value. #}
{% macro as_json(expr) -%}
  {{ return(adapter.dispatch('as_json', 'tap_aws_uvm')(expr)) }}
{%- endmacro %}
{% macro default__as_json(expr) %}to_jsonb({{ expr }}){% endmacro %}
{% macro duckdb__as_json(expr) %}cast({{ expr }} as json){% endmacro %}


{# A raw array-of-strings column (text[] / JSON array) as a native array of strings. #}
{% macro string_array(expr) -%}
  {{ return(adapter.dispatch('string_array', 'tap_aws_uvm')(expr)) }}
{%- endmacro %}
{% macro default__string_array(expr) %}cast({{ expr }} as text[]){% endmacro %}
{% macro duckdb__string_array(expr) %}cast({{ expr }} as varchar[]){% endmacro %}


{% macro empty_string_array() -%}
  cast(array[] as {{ tap_aws_uvm.string_array_type() }})
{%- endmacro %}


{% macro null_json() -%}
  cast(null as {{ tap_aws_uvm.json_type() }})
{%- endmacro %}


{% macro array_size(expr) -%}
  {{ return(adapter.dispatch('array_size', 'tap_aws_uvm')(expr)) }}
{%- endmacro %}
{% macro default__array_size(expr) %}coalesce(cardinality({{ expr }}), 0){% endmacro %}
{% macro duckdb__array_size(expr) %}coalesce(len({{ expr }}), 0){% endmacro %}


{# The value at a path of keys inside a JSON value, as JSON: json_get(col, 'A', 'B'). #}
{% macro json_get(expr) -%}
  {{ return(adapter.dispatch('json_get', 'tap_aws_uvm')(expr, varargs)) }}
{%- endmacro %}
{% macro default__json_get(expr, path) -%}
  ({{ expr }}{% for key in path %} -> '{{ key }}'{% endfor %})
{%- endmacro %}
{% macro duckdb__json_get(expr, path) -%}
  json_extract({{ expr }}, '${% for key in path %}."{{ key }}"{% endfor %}')
{%- endmacro %}


{# The value at a path as text (a JSON string unquoted, a number or boolean as written;
   "" is NULL: target-duckdb already writes an empty top-level string as NULL). #}
{% macro json_text(expr) -%}
  {{ return(adapter.dispatch('json_text', 'tap_aws_uvm')(expr, varargs)) }}
{%- endmacro %}
{% macro default__json_text(expr, path) -%}
  nullif({{ expr }} #>> '{ {{- path | join(',') -}} }', '')
{%- endmacro %}
{% macro duckdb__json_text(expr, path) -%}
  nullif(json_extract_string({{ expr }}, '${% for key in path %}."{{ key }}"{% endfor %}'), '')
{%- endmacro %}


{# The elements of a JSON array as rows, for `cross join {{ json_elements(x) }} as e(value)`;
   anything that is not an array gives no row. #}
{% macro json_elements(expr) -%}
  {{ return(adapter.dispatch('json_elements', 'tap_aws_uvm')(expr)) }}
{%- endmacro %}
{% macro default__json_elements(expr) -%}
  jsonb_array_elements(case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} end)
{%- endmacro %}
{% macro duckdb__json_elements(expr) -%}
  unnest(case when json_type({{ expr }}) = 'ARRAY' then cast({{ expr }} as json[]) end)
{%- endmacro %}


{# Now, in UTC, as a timestamp without time zone (how both targets store the tap's times). #}
{% macro utc_now() -%}
  {{ return(adapter.dispatch('utc_now', 'tap_aws_uvm')()) }}
{%- endmacro %}
{% macro default__utc_now() %}(now() at time zone 'utc'){% endmacro %}
{% macro duckdb__utc_now() %}timezone('UTC', now()){% endmacro %}
