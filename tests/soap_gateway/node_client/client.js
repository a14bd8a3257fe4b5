// A node-soap client built from the official WSDL, signing every call with WSSecurityCert
// and its default options (RSA-SHA256, SHA-256 digests, enveloped-signature + exc-c14n
// transforms, an unqualified Id on the Body and the Timestamp).
//
// Reads one JSON object on stdin:
//   {wsdl, endpoint, keyPem, certPem, xmlXsd, calls: [{operation, args}]}
// and writes {results: [...]} on stdout; a SOAP fault ends the run with {fault: ...}.
'use strict';

const fs = require('fs');
const soap = require('soap');

const W3C_XML_XSD = 'http://www.w3.org/2001/xml.xsd';

function readStdin() {
  return JSON.parse(fs.readFileSync(0, 'utf8'));
}

async function main() {
  const input = readStdin();
  const client = await soap.createClientAsync(input.wsdl, {
    endpoint: input.endpoint,
    wsdl_options: {
      // The errors schema imports the W3C xml.xsd; the tests run offline.
      overrideImportLocation: (location) => (location === W3C_XML_XSD ? input.xmlXsd : location),
    },
  });
  client.setSecurity(new soap.WSSecurityCert(input.keyPem, input.certPem, ''));
  const results = [];
  for (const call of input.calls) {
    try {
      const [result] = await client[`${call.operation}Async`](call.args);
      results.push({ result, request: client.lastRequest });
    } catch (error) {
      const fault = error.root ? error.root.Envelope.Body.Fault : { faultstring: String(error) };
      results.push({ fault, request: client.lastRequest });
    }
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
