"""The local AWS API server the integration tests run against: moto's server (S3, CloudWatch
Logs, Glue, Athena) on 127.0.0.1, with two behaviours of Athena that moto 5.2.5 lacks and the
tests need, added here rather than faked inside the tool:

- GetQueryResults returns at most MaxResults rows a page (1,000 by default, and at most, as
  Athena does) with a NextToken for the rest; moto returns every row at once.
- A seeded result can be a failure: a result of `{"state": "FAILED", "reason": "..."}` posted to
  /moto-api/static/athena/query-results makes the query that takes it end FAILED with that
  reason, as GetQueryExecution reports it (`StateChangeReason`, `AthenaError.ErrorMessage`);
  moto's queries always succeed.

Usage: python tests/aws_server.py -H 127.0.0.1 -p PORT (moto_server's arguments).
"""

import json

from moto.athena import models as athena_models
from moto.athena import responses as athena_responses
from moto.moto_api._internal import responses as moto_api_responses
from moto.moto_api._internal import urls as moto_api_urls
from moto.server import main

ATHENA_PAGE_ROWS = 1000


def _failure(backend, exec_id):
    results = backend.query_results.get(exec_id)
    return getattr(results, "failure", None)


def set_athena_result(self, request, full_url, headers):
    """moto's seeding endpoint, also taking `state` and `reason` per result."""
    body = self._get_body(headers, request)
    account_id = body.get("account_id", "123456789012")
    region = body.get("region", "us-east-1")
    backend = athena_models.athena_backends[account_id][region]
    for result in body.get("results", []):
        seeded = athena_models.QueryResults(
            rows=result.get("rows", []), column_info=result.get("column_info", [])
        )
        if result.get("state") == "FAILED":
            seeded.failure = result.get("reason", "")
        backend.query_results_queue.append(seeded)
    return 201, {}, ""


_get_query_execution = athena_responses.AthenaResponse.get_query_execution


def get_query_execution(self):
    answer = json.loads(_get_query_execution(self))
    exec_id = self._get_param("QueryExecutionId")
    reason = _failure(self.athena_backend, exec_id)
    if reason is not None:
        status = answer["QueryExecution"]["Status"]
        status["State"] = "FAILED"
        status["StateChangeReason"] = reason
        status["AthenaError"] = {
            "ErrorCategory": 2,
            "ErrorType": 1301,
            "Retryable": False,
            "ErrorMessage": reason,
        }
    return json.dumps(answer)


def get_query_results(self):
    exec_id = self._get_param("QueryExecutionId")
    if _failure(self.athena_backend, exec_id) is not None:
        return self.error("Query did not finish successfully. Final query state: FAILED", 400)
    max_results = int(self._get_param("MaxResults") or ATHENA_PAGE_ROWS)
    if not 1 <= max_results <= ATHENA_PAGE_ROWS:
        return self.error(f"MaxResults must be 1 to {ATHENA_PAGE_ROWS}", 400)
    start = int(self._get_param("NextToken") or 0)
    whole = self.athena_backend.get_query_results(exec_id).to_dict()
    rows = whole["ResultSet"]["Rows"]
    whole["ResultSet"]["Rows"] = rows[start : start + max_results]
    if start + max_results < len(rows):
        whole["NextToken"] = str(start + max_results)
    return json.dumps(whole)


moto_api_responses.MotoAPIResponse.set_athena_result = set_athena_result
# The URL map holds a method bound when it was imported.
moto_api_urls.url_paths["{0}/moto-api/static/athena/query-results"] = (
    moto_api_urls.response_instance.set_athena_result
)
athena_responses.AthenaResponse.get_query_execution = get_query_execution
athena_responses.AthenaResponse.get_query_results = get_query_results

if __name__ == "__main__":
    main()
