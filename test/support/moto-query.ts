/**
 * One AWS Query-protocol request (IAM, EC2) to moto_server, for reading back
 * what a stack created where the repository has no SDK client for the
 * service. moto routes by the credential scope of the Authorization header
 * and does not check the signature; the account is moto's x-moto-account-id.
 */
export async function motoQuery(endpoint: string, service: 'iam' | 'ec2', params: Record<string, string>, account: string, region = 'us-east-1'): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAMOTOTEST/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=moto`,
      'x-moto-account-id': account,
    },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto ${service} ${params['Action']}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  return text;
}
