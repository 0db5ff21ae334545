// One call of the published shipstation-node client against ShipBridge: the configuration is the
// first argument (JSON: baseURL, apiKey, apiSecret, resource, method, args); the result, or the
// HTTP error, is printed as one JSON line.
import ShipStation from 'shipstation-node';

const { baseURL, apiKey, apiSecret, resource, method, args } = JSON.parse(process.argv[2]);
const shipstation = new ShipStation({ credentials: { v1: { apiKey, apiSecret } } });
shipstation.v1.baseURL = baseURL; // the one change: ShipBridge instead of https://ssapi.shipstation.com/

try {
  const result = await shipstation.v1[resource][method](...(args || []));
  process.stdout.write(JSON.stringify({ ok: true, result: result === undefined ? null : result }) + '\n');
} catch (error) {
  const response = error.response || {};
  process.stdout.write(JSON.stringify({
    ok: false, status: response.status ?? null, data: response.data ?? null, message: String(error.message),
  }) + '\n');
}
