// Sends a session of xAPI statements to an LRS with @xapi/xapi, as a player would: one statement
// per request (sendStatement), the rest as one batch (sendStatements); then reads one back and the
// about resource. Usage: node send.mjs ENDPOINT USER PASSWORD STATEMENTS.json [SINGLE_COUNT]
// Prints {"ids": [...], "about": {...}, "readBack": {...}} as JSON; exits 1 on any refusal.
import { readFileSync } from "node:fs";
import XAPI from "@xapi/xapi";

const [endpoint, user, password, file, singles = "5"] = process.argv.slice(2);
const statements = JSON.parse(readFileSync(file, "utf8"));
const xapi = new XAPI({ endpoint, auth: XAPI.toBasicAuth(user, password), version: "1.0.3" });

try {
  const ids = [];
  const one = Number(singles);
  for (const statement of statements.slice(0, one)) {
    const answer = await xapi.sendStatement({ statement });
    ids.push(...answer.data);
  }
  if (statements.length > one) {
    const answer = await xapi.sendStatements({ statements: statements.slice(one) });
    ids.push(...answer.data);
  }
  const about = (await xapi.getAbout()).data;
  const readBack = (await xapi.getStatement({ statementId: ids[0] })).data;
  console.log(JSON.stringify({ ids, about, readBack }));
} catch (error) {
  const answer = error.response ? { status: error.response.status, data: error.response.data } : String(error);
  console.log(JSON.stringify({ error: answer }));
  process.exit(1);
}
