-- Requests of the month with no price, per model, with their tokens
SELECT model, sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
  sum(cache_write_tokens)
FROM daily_usage
WHERE month = $month AND price_status = 'unpriced'
GROUP BY model
ORDER BY model NULLS LAST
