/**
 * The hub dashboard: what users do with the hub and what it costs. LiteLLM's
 * own metrics (requests, tokens and spend per model and team, errors and
 * latency per provider) and Open WebUI's OTLP metrics as Prometheus's OTLP receiver
 * stores them (http_server_requests_total and
 * http_server_duration_milliseconds, job="open-webui").
 */
import { promql, type Dashboard } from './builder.js';

const OPEN_WEBUI = 'job="open-webui"';

export const HUB_DASHBOARD: Dashboard = {
  uid: 'hub',
  title: 'DubAI hub: usage, spend and providers',
  description: 'LiteLLM requests, tokens and spend per model and team; provider errors and latency; Open WebUI traffic.',
  tags: ['dubai-hub', 'litellm', 'open-webui'],
  rows: [
    {
      title: 'Usage per model and team (LiteLLM)',
      panels: [
        { kind: 'timeseries', title: 'Requests per second by model', description: 'Requests the proxy received, by the model the client asked for.', unit: 'reqps', queries: [{ expr: promql.rateBy('litellm_proxy_total_requests_metric_total', ['requested_model']), legend: '{{requested_model}}' }] },
        { kind: 'timeseries', title: 'Requests per second by team', description: 'Requests by the team of the virtual key.', unit: 'reqps', queries: [{ expr: promql.rateBy('litellm_proxy_total_requests_metric_total', ['team_alias']), legend: '{{team_alias}}' }] },
        { kind: 'timeseries', title: 'Tokens per second by model', description: 'Input and output tokens by model.', queries: [{ expr: promql.rateBy('litellm_input_tokens_metric_total', ['model']), legend: 'in {{model}}' }, { expr: promql.rateBy('litellm_output_tokens_metric_total', ['model']), legend: 'out {{model}}' }] },
        { kind: 'table', title: 'Tokens by team over the range', description: 'Total tokens per team over the selected time range.', queries: [{ expr: promql.increaseBy('litellm_total_tokens_metric_total', ['team_alias']) }] },
        { kind: 'timeseries', title: 'Spend (USD per hour) by model', description: 'LiteLLM\'s cost estimate of the responses, by model.', unit: 'currencyUSD', queries: [{ expr: `3600 * ${promql.rateBy('litellm_spend_metric_total', ['model'])}`, legend: '{{model}}' }] },
        { kind: 'table', title: 'Spend by team over the range (USD)', description: 'Spend per team over the selected time range.', unit: 'currencyUSD', queries: [{ expr: promql.increaseBy('litellm_spend_metric_total', ['team_alias']) }] },
      ],
    },
    {
      title: 'Providers (LiteLLM deployments)',
      panels: [
        {
          kind: 'timeseries',
          title: 'Error ratio by provider',
          description: 'Failed responses over all requests to each provider. Above 5% for 10 minutes is an outage.',
          unit: 'percentunit',
          queries: [{ expr: `${promql.rateBy('litellm_deployment_failure_responses_total', ['api_provider'])} / ${promql.rateBy('litellm_deployment_total_requests_total', ['api_provider'])}`, legend: '{{api_provider}}' }],
        },
        { kind: 'timeseries', title: 'Failures by provider and status', description: 'Failed responses by provider and HTTP status the provider returned.', queries: [{ expr: promql.rateBy('litellm_deployment_failure_responses_total', ['api_provider', 'exception_status']), legend: '{{api_provider}} {{exception_status}}' }] },
        { kind: 'timeseries', title: 'Latency per output token, p95, by provider', description: 'How long a provider takes per generated token (95th percentile).', unit: 's', queries: [{ expr: promql.quantileBy(0.95, 'litellm_deployment_latency_per_output_token', ['api_provider']), legend: '{{api_provider}}' }] },
        { kind: 'timeseries', title: 'Provider call latency, p95, by model', description: 'Time of the call to the LLM API (95th percentile).', unit: 's', queries: [{ expr: promql.quantileBy(0.95, 'litellm_llm_api_latency_metric', ['model']), legend: '{{model}}' }] },
        { kind: 'stat', title: 'Deployments not healthy', description: 'LiteLLM deployment state: 0 healthy, 1 partial outage, 2 complete outage.', queries: [{ expr: 'count(litellm_deployment_state > 0) or vector(0)' }], redFrom: 1, width: 6 },
        { kind: 'timeseries', title: 'Cooldowns by provider', description: 'Deployments LiteLLM took out of rotation after failures.', width: 18, queries: [{ expr: promql.rateBy('litellm_deployment_cooled_down_total', ['api_provider']), legend: '{{api_provider}}' }] },
      ],
    },
    {
      title: 'Open WebUI (OTLP into Prometheus)',
      panels: [
        { kind: 'timeseries', title: 'Requests per second by status', description: 'Inbound HTTP requests of Open WebUI by status code.', unit: 'reqps', queries: [{ expr: promql.rateBy('http_server_requests_total', ['http_status_code'], OPEN_WEBUI), legend: '{{http_status_code}}' }] },
        { kind: 'timeseries', title: 'Request latency p50 and p95', description: 'Inbound HTTP request duration of Open WebUI.', unit: 'ms', queries: [{ expr: promql.quantileBy(0.5, 'http_server_duration_milliseconds', ['job'], OPEN_WEBUI), legend: 'p50' }, { expr: promql.quantileBy(0.95, 'http_server_duration_milliseconds', ['job'], OPEN_WEBUI), legend: 'p95' }] },
        { kind: 'stat', title: 'Active users', description: 'Users Open WebUI counts as active now.', width: 8, queries: [{ expr: `sum(webui_users_active{${OPEN_WEBUI}})` }] },
        { kind: 'stat', title: 'Active today', description: 'Users active since midnight (UTC).', width: 8, queries: [{ expr: `sum(webui_users_active_today{${OPEN_WEBUI}})` }] },
        { kind: 'stat', title: 'Registered users', description: 'All registered users.', width: 8, queries: [{ expr: `sum(webui_users_total{${OPEN_WEBUI}})` }] },
      ],
    },
  ],
};
