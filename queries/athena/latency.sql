-- Latency per model and month: approximate p50/p90/p99 (Athena has no exact percentile) and mean of total latency and time to first byte, with the error rate
SELECT
  month,
  model,
  count(*) AS requests,
  round(100 * CAST(count(error_code) AS DOUBLE) / count(*), 2) AS error_rate_pct,
  count(latency_ms) AS timed_requests,
  round(CAST(approx_percentile(latency_ms, 0.5) AS DOUBLE), 1) AS latency_p50_ms,
  round(CAST(approx_percentile(latency_ms, 0.9) AS DOUBLE), 1) AS latency_p90_ms,
  round(CAST(approx_percentile(latency_ms, 0.99) AS DOUBLE), 1) AS latency_p99_ms,
  round(avg(latency_ms), 1) AS latency_mean_ms,
  count(first_byte_latency_ms) AS streamed_requests,
  round(CAST(approx_percentile(first_byte_latency_ms, 0.5) AS DOUBLE), 1) AS first_byte_p50_ms,
  round(CAST(approx_percentile(first_byte_latency_ms, 0.9) AS DOUBLE), 1) AS first_byte_p90_ms,
  round(CAST(approx_percentile(first_byte_latency_ms, 0.99) AS DOUBLE), 1) AS first_byte_p99_ms,
  round(avg(first_byte_latency_ms), 1) AS first_byte_mean_ms
FROM invocations
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month, model
ORDER BY month, model NULLS LAST
