#!/usr/bin/env bash
# What a new user sees after one order under the AppHost, checked through the Aspire dashboard's telemetry API:
# the order's trace (POST /api/orders -> StartWorkflow -> RunWorkflow -> each activity, database calls under
# them, and no trace of a probe), the worker's activity log lines with their workflow fields, and, when
# playwright-core and chromium are there, a screenshot of the trace in the dashboard.
#   scripts/observe-order.sh [screenshot.png]     (PLAYWRIGHT_DIR: a folder whose node_modules has playwright-core)
# Runs the AppHost in process mode (no container engine needed: PostgreSQL, Redis and the Temporal test server
# as local processes), with the dashboard's API open on loopback for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-}"
dashboard=18888
api_key="observe-$RANDOM"
state="$(mktemp -d)"; chmod 755 "$state" # the postgres user enters it when this runs as root
log="$state/apphost.log"
trap 'kill -TERM "${apphost:-0}" 2>/dev/null; wait "${apphost:-0}" 2>/dev/null; rm -rf "$state"' EXIT

dotnet build AppHost --nologo -v q >/dev/null
(cd AppHost && exec env Stack__Mode=processes Stack__StateDirectory="$state" "Parameters__api-key=$api_key" \
  Parameters__postgres-password=observe-password Parameters__redis-password=observe-redis-password Worker__Replicas=1 \
  ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
  ASPNETCORE_URLS="http://127.0.0.1:$dashboard" ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://127.0.0.1:18890 \
  ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://127.0.0.1:18891 dotnet bin/Debug/net10.0/AppHost.dll) >"$log" 2>&1 &
apphost=$!
for _ in $(seq 180); do curl -sf -o /dev/null http://localhost:5080/health && break; kill -0 "$apphost" || { cat "$log" >&2; exit 1; }; sleep 1; done
curl -sf -o /dev/null http://localhost:5080/health || { echo "the worker did not become healthy; AppHost log: $log" >&2; exit 1; }
for _ in $(seq 20); do curl -sf -o /dev/null http://localhost:5080/alive; done # probes, which must leave no trace

order="observe-$(date +%s)"
curl -sf -X POST http://localhost:5080/api/orders -H "X-Api-Key: $api_key" -H 'Content-Type: application/json' \
  -d "{\"orderId\":\"$order\",\"lines\":[{\"sku\":\"BEANS-1KG\",\"quantity\":1}],\"paymentToken\":\"tok_visa\"}" >/dev/null
for _ in $(seq 60); do
  curl -sf -H "X-Api-Key: $api_key" "http://localhost:5080/api/orders/$order" | grep -q '"status":"Completed"' && break; sleep 1
done
sleep 6 # the worker's exporters send in batches

curl -sf "http://127.0.0.1:$dashboard/api/telemetry/traces" >"$state/traces.json"
curl -sf "http://127.0.0.1:$dashboard/api/telemetry/logs" >"$state/logs.json"
trace=$(python3 - "$state/traces.json" "$state/logs.json" "order-$order" <<'PY'
import json, sys
spans = [dict(s, scope=ss["scope"]["name"]) for rs in json.load(open(sys.argv[1]))["data"]["resourceSpans"]
         for ss in rs["scopeSpans"] for s in ss["spans"]]
roots = [s for s in spans if not s.get("parentSpanId")]
post = [s for s in roots if s["name"] == "POST /api/orders"]
assert len(post) == 1, f"one POST /api/orders trace expected, found {len(post)}"
trace = [s for s in spans if s["traceId"] == post[0]["traceId"]]
names = {s["name"] for s in trace}
by_id = {s["spanId"]: s for s in trace}
def parent(s): return by_id.get(s.get("parentSpanId"), {}).get("name", "")
need = ["StartWorkflow:OrderWorkflow", "RunWorkflow:OrderWorkflow", "RunActivity:ReserveInventory", "RunActivity:ChargePayment", "RunActivity:ShipOrder"]
missing = [n for n in need if n not in names]
assert not missing, f"missing spans: {missing}"
assert all(parent(s) == "RunWorkflow:OrderWorkflow" for s in trace if s["name"].startswith("RunActivity:")), "activities not under the run"
assert any(s["scope"] == "Npgsql" and parent(s).startswith("RunActivity:") for s in trace), "no database span under an activity"
# Besides the order's own requests (the status polls here), nothing: no probe, scrape or health-check query.
others = [s["name"] for s in roots if s["traceId"] != post[0]["traceId"] and not s["name"].startswith("GET /api/orders/")]
assert not others, f"traces of something else than the order: {sorted(set(others))}"
print(f"trace {post[0]['traceId']}: {len(trace)} spans, {len(roots)} trace(s) in all: " + ", ".join(sorted(names - {'postgresql'})))
records = [r for rl in json.load(open(sys.argv[2]))["data"]["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
fields = lambda r: {a["key"]: list(a["value"].values())[0] for a in r.get("attributes", [])}
mine = [r for r in records if fields(r).get("WorkflowId") == sys.argv[3]]
assert mine, "no log line of the order's activities carries its WorkflowId"
for key in ("WorkflowRunId", "ActivityType"):
    assert all(key in fields(r) for r in mine), f"a log line of the order lacks {key}"
# OTLP carries the trace id in the record itself (the dashboard links the line to the trace by it).
assert all(r.get("traceId") == post[0]["traceId"] for r in mine), "a log line of the order is not linked to its trace"
print(f"logs: {len(mine)} lines of the order's activities, each with WorkflowId, WorkflowRunId, ActivityType, and the trace's id")
print(post[0]["traceId"])
PY
) || { echo "AppHost log: $log" >&2; exit 1; }
printf '%s\n' "$trace" | head -n -1
trace_id=$(printf '%s\n' "$trace" | tail -n 1)
curl -sf http://localhost:5080/metrics | grep -E '^orders_(started|finished)_total' | sed 's/^/metrics: /'

if [[ -n "$shot" ]]; then
  NODE_PATH="${PLAYWRIGHT_DIR:-/tmp/pw}/node_modules" node - "http://127.0.0.1:$dashboard/traces/detail/$trace_id" "$shot" <<'JS'
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(process.argv[2], { waitUntil: 'networkidle' });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: process.argv[3] });
  await browser.close();
})();
JS
  echo "screenshot: $shot"
fi
