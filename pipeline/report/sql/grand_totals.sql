-- The month's totals straight from the dataset, which the chargeback rows must add up to
SELECT
  coalesce(sum(requests), 0),
  coalesce(sum(failed_requests), 0),
  coalesce(sum(input_tokens), 0),
  coalesce(sum(output_tokens), 0),
  coalesce(sum(cache_read_tokens), 0),
  coalesce(sum(cache_write_tokens), 0),
  coalesce(sum(CASE WHEN price_status = 'unpriced' THEN requests ELSE 0 END), 0),
  sum(input_cost_usd),
  sum(output_cost_usd),
  sum(cache_read_cost_usd),
  sum(cache_write_cost_usd),
  sum(cost_usd),
  min(first_timestamp),
  max(last_timestamp)
FROM daily_usage
WHERE month = $month
