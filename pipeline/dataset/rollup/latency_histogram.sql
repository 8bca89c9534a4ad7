-- Every request's latency and time to first byte, counted per month, model and value in
-- milliseconds: the exact distributions, from which `latency` computes its percentiles. Stored
-- as the rollup `latency_histogram`; where it is not, this query over `invocations`. Requests
-- without a value are counted under a null `value_ms`, so every month has rows (which record
-- what the rollup summed) even when no record logs latency.
SELECT month, model, 'total' AS measure, latency_ms AS value_ms, count(*) AS requests
FROM invocations
GROUP BY month, model, latency_ms
UNION ALL
SELECT month, model, 'first_byte' AS measure, first_byte_latency_ms AS value_ms, count(*) AS requests
FROM invocations
GROUP BY month, model, first_byte_latency_ms
