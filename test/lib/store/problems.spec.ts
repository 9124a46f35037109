import assert from "node:assert/strict";
import { storeProblem } from "../../../nodes/lib/store/problems";

const withCode = (message: string, code?: string): Error & { code?: string } => Object.assign(new Error(message), code ? { code } : {});

describe("lib/store/problems", () => {
  it("tells the errors a user fixes in the store's settings from the rest", () => {
    assert.equal(storeProblem(withCode("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN")), "tls-untrusted");
    assert.equal(storeProblem(withCode("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE")), "tls-untrusted");
    assert.equal(storeProblem(withCode("Hostname/IP does not match", "ERR_TLS_CERT_ALTNAME_INVALID")), "tls-name");
    assert.equal(storeProblem(withCode("certificate has expired", "CERT_HAS_EXPIRED")), "tls-expired");
    assert.equal(storeProblem(withCode("wrong version number", "ERR_SSL_WRONG_VERSION_NUMBER")), "tls-handshake");
    assert.equal(storeProblem(withCode("WRONGPASS invalid username-password pair or user is disabled.")), "auth");
    assert.equal(storeProblem(withCode("NOAUTH Authentication required.")), "auth");
    assert.equal(storeProblem(withCode("connect ECONNREFUSED 127.0.0.1:6379", "ECONNREFUSED")), undefined);
  });
});
