-- Cache savings per model: what cache reads cost, and what they saved against the input price
SELECT
  model,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  CAST(sum(cache_read_cost_usd) AS DECIMAL(38, 6)) AS cache_read_cost_usd,
  CAST(sum(cache_write_cost_usd) AS DECIMAL(38, 6)) AS cache_write_cost_usd,
  CAST(sum(cache_read_savings_usd) AS DECIMAL(38, 6)) AS cache_read_savings_usd,
  round(100 * CAST(sum(cache_read_savings_usd) AS DOUBLE)
    / CAST(sum(cost_usd) + sum(cache_read_savings_usd) AS DOUBLE), 2) AS savings_pct
FROM daily_usage
WHERE month BETWEEN $from_month AND $to_month AND price_status = 'priced'
GROUP BY model
HAVING sum(cache_read_tokens) > 0
ORDER BY cache_read_savings_usd DESC NULLS LAST, model NULLS LAST
