// adminAuth for a Node-RED child process: an admin ("*") and a read-only user ("read"), and
// tokens from POST /auth/token, as the editor gets them.
import { nodeRedDir } from "./node-red";

export const ADMIN = { username: "admin", password: "admin-password-1" };
export const READER = { username: "reader", password: "reader-password-1" };

function hash(password: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bcryptjs is Node-RED's own dependency, resolved from the Node-RED under test
  const bcrypt = require(require.resolve("bcryptjs", { paths: [nodeRedDir()] })) as { hashSync(value: string, rounds: number): string };
  return bcrypt.hashSync(password, 8);
}

/** The `adminAuth` setting with both users. */
export function adminAuthSettings(): Record<string, unknown> {
  return {
    adminAuth: {
      type: "credentials",
      users: [
        { username: ADMIN.username, password: hash(ADMIN.password), permissions: "*" },
        { username: READER.username, password: hash(READER.password), permissions: "read" },
      ],
    },
  };
}

/** An access token for `user` with `scope` ("*" or "read"). */
export async function token(baseUrl: string, user: { username: string; password: string }, scope = "*"): Promise<string> {
  const res = await fetch(`${baseUrl}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: "node-red-admin", grant_type: "password", scope, ...user }).toString(),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no token for ${user.username}: ${res.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

/** Deploys `flows` in full through the admin API as the holder of `bearer`; fails unless Node-RED takes them. */
export async function deployAs(baseUrl: string, bearer: string, flows: unknown[]): Promise<void> {
  const res = await fetch(`${baseUrl}/flows`, {
    method: "POST",
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(flows),
  });
  if (res.status !== 204) throw new Error(`deploy: ${res.status} ${await res.text()}`);
}
