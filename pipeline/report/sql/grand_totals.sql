-- The month's totals straight from the dataset, which the chargeback rows must add up to
SELECT
  count(*),
  count(error_code),
  coalesce(sum(input_tokens), 0),
  coalesce(sum(output_tokens), 0),
  coalesce(sum(cache_read_tokens), 0),
  coalesce(sum(cache_write_tokens), 0),
  sum(CASE WHEN price_status = 'unpriced' THEN 1 ELSE 0 END),
  sum(input_cost_usd),
  sum(output_cost_usd),
  sum(cache_read_cost_usd),
  sum(cache_write_cost_usd),
  sum(cost_usd),
  min(timestamp),
  max(timestamp),
  count(DISTINCT source)
FROM invocations
WHERE month = $month
