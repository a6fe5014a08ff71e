// A page for people (a broken-dependency report) asked for without a token: ask again with the
// token the dashboard keeps for this tab, and show what the server answers.
import { storedToken } from "./api.js";

const status = document.getElementById("sign-in-status");
const token = storedToken();
if (token && status) {
  status.textContent = "Loading with the dashboard's token…";
  try {
    const res = await fetch(location.href, { headers: { authorization: `Bearer ${token}`, accept: "text/html" } });
    if (res.ok && (res.headers.get("content-type") ?? "").startsWith("text/html")) {
      const html = await res.text();
      document.open();
      document.write(html);
      document.close();
    } else {
      status.textContent = `The server answered ${res.status}: sign in again on the dashboard.`;
    }
  } catch (err) {
    status.textContent = `The server could not be reached: ${err instanceof Error ? err.message : String(err)}`;
  }
}
