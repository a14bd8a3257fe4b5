// A Node.js integrator's client of both contracts.
//
//   SOAP (construction, meat): node-soap, every call signed with its X.509 WSSecurityCert
//   (its defaults: RSA-SHA256, SHA-256 digests, Body and Timestamp signed).
//   REST (cleaning): a token by client assertion signed with jose (RS256), then fetch.
//
//   npm ci && node example.js --base-url http://127.0.0.1:8000 --credentials-dir ../../var/demo \
//       --sheet sheet.json [--pick 2]
//
// sheet.json is `manage.py demo_sheet --json`: the identities come from it. Each option also
// reads an environment variable (PRESENCE_BASE_URL, DEMO_CREDENTIALS_DIR, DEMO_SHEET). Prints
// what it does; exits with 1 on any answer the sheet does not promise.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { SignJWT, importPKCS8 } from 'jose';
import soap from 'soap';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string', default: process.env.PRESENCE_BASE_URL || 'http://127.0.0.1:8000' },
    'credentials-dir': { type: 'string', default: process.env.DEMO_CREDENTIALS_DIR || 'var/demo' },
    sheet: { type: 'string', default: process.env.DEMO_SHEET },
    pick: { type: 'string', default: '2' },
  },
});
if (!args.sheet) throw new Error('--sheet (or DEMO_SHEET) is required: the output of `manage.py demo_sheet --json`');

const base = args['base-url'];
const keys = args['credentials-dir'];
const privateKeyPem = readFileSync(join(keys, 'enterprise.key.pem'), 'utf8');
const certificatePem = readFileSync(join(keys, 'enterprise.cert.pem'), 'utf8');
const clientId = readFileSync(join(keys, 'enterprise.client-id'), 'utf8').trim();
const client = JSON.parse(readFileSync(args.sheet, 'utf8')).clients.find((c) => c.mayRegister);
const combination = (key) => [...client.clean, ...client.remarks].find((c) => c.key === key);

function expect(condition, what) {
  console.log(`  ${condition ? 'ok' : 'UNEXPECTED'}: ${what}`);
  if (!condition) throw new Error(`unexpected answer: ${what}`);
}

// Today in Brussels, as YYYY-MM-DD: registration dates are decided there.
const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(new Date());

// The moment of a cleaning event with its offset (+01:00 or +02:00), which the API requires.
function brusselsNow() {
  const now = new Date();
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
    }).formatToParts(now).map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName.replace('GMT', '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

async function soapPart() {
  const wsdl = `${base}/PresenceRegistration/v1?wsdl`;
  const service = await soap.createClientAsync(wsdl);
  service.setSecurity(new soap.WSSecurityCert(privateKeyPem, certificatePem, ''));
  const item = combination(`clean-construction-${args.pick}`).steps[0].item;

  console.log('SOAP registerPresences: an employee on the client\'s own construction site');
  const [registered] = await service.registerPresencesAsync({
    PresenceRegistrationRequest: [{
      RegistrationDate: today,
      INSS: item.INSS,
      CompanyID: Number(item.CompanyID), // xs:long: the leading zero is dropped
      WorkPlaceId: item.WorkPlaceId,
    }],
  });
  // One PresenceRegistrationResponse per item: PresenceRegistration, or PresenceRegistrationError.
  const stored = registered.PresenceRegistrationResponse[0].PresenceRegistration;
  expect(stored !== undefined, `stored as ${stored && stored.PresenceRegistrationId}`);
  const id = String(stored.PresenceRegistrationId);

  // node-soap writes getPresenceRegistration's inner element (named like its wrapper in the
  // contract) in the wrong namespace, which the service refuses (SOA-03006): read by searching.
  console.log('SOAP searchPresences: today\'s registrations, newest first');
  const [found] = await service.searchPresencesAsync({
    SearchPresenceRequest: {
      SearchPresenceRegistrationCriteria: {
        RegistrationPeriodList: { RegistrationPeriod: [{ RegistrationPeriodStartDate: today, RegistrationPeriodEndDate: today }] },
      },
      PaginationProperties: { FirstRow: 0, FetchSize: 500 },
      SortingProperties: { SortDirection: 'DESCENDING', SortCriteria: 'ID' },
    },
  });
  const list = found.SearchPresencesResponseType.PresenceRegistrationList;
  const ours = [].concat(list.PresenceRegistration || []).find((r) => String(r.PresenceRegistrationId) === id);
  expect(ours && ours.LastValidation.Status === 'VALIDATED', `${list.PresenceRegistrationResultCount} found, ours VALIDATED`);

  console.log('SOAP cancelPresences');
  const [cancelled] = await service.cancelPresencesAsync({
    CancelPresenceRequest: [{ PresenceRegistrationId: id, CancellationReason: 'HOLIDAY' }],
  });
  const status = cancelled.CancelPresenceResponse[0].PresenceRegistration.LastValidation.Status;
  expect(status === 'SUCCESSFULLY CANCELLED', status);
}

async function restPart() {
  const tokenUrl = `${base}/REST/oauth/v5/token`;
  console.log('REST token by client assertion (private_key_jwt, RS256, signed with jose)');
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl) // the token URL exactly as called
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(await importPKCS8(privateKeyPem, 'RS256'));
  const tokenAnswer = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  expect(tokenAnswer.status === 200, `token: HTTP ${tokenAnswer.status}`);
  const { access_token: token } = await tokenAnswer.json();
  const api = `${base}/REST/presenceRegistration/v1`;
  const call = async (path, body) => {
    const answer = await fetch(`${api}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return answer.json();
  };

  const steps = combination(`clean-cleaning-builder-${args.pick}`).steps;
  for (const step of steps) {
    const kind = step.item.type.toUpperCase();
    console.log(`REST registerInBulk: ${kind}`);
    const { items: [entry] } = await call('/presenceRegistrations/registerInBulk', {
      items: [{ ...step.item, registrationDate: brusselsNow() }],
    });
    // {createdPresenceRegistration: {...}} or {notCreatedPresenceRegistration: {errorList: [...]}}
    const created = entry.createdPresenceRegistration;
    expect(created !== undefined, created ? `${kind} stored as ${created.id}` : JSON.stringify(entry));
    let shown = await call(`/presenceRegistrations/${created.id}`);
    for (let tries = 0; shown.validity === 'pending' && tries < 100; tries += 1) {
      await new Promise((resolve) => { setTimeout(resolve, 300); });
      shown = await call(`/presenceRegistrations/${created.id}`);
    }
    expect(shown.validity === 'valid', `${kind} ${created.id} is ${shown.validity}`);
  }
}

try {
  await soapPart();
  await restPart();
} catch (error) {
  console.error(`FAILED: ${error.stack || error}`);
  process.exit(1);
}
