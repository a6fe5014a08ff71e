// The one error handler: which failures are the database's is the application's to say (the
// store's predicate, passed in); the handler turns those into 503 with Retry-After.
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { errorsPlugin } from "../../../src/api/plugins/errors.js";
import { Problem } from "../../../src/api/problem.js";

class DriverDown extends Error {}

async function appThrowing(err: unknown, isDatabaseUnavailable: (err: unknown) => boolean) {
  const app = Fastify({ logger: false });
  await app.register(errorsPlugin, { isDatabaseUnavailable });
  app.get("/thing", async () => {
    throw err;
  });
  return app;
}

describe("errorsPlugin", () => {
  it("answers 503 problem+json with Retry-After for what the injected predicate calls the database's", async () => {
    const seen: unknown[] = [];
    const down = new DriverDown("connection refused");
    const app = await appThrowing(down, (err) => {
      seen.push(err);
      return err instanceof DriverDown;
    });
    const res = await app.inject({ method: "GET", url: "/thing" });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ status: 503, type: expect.stringMatching(/database-unavailable$/), instance: "/thing" });
    expect(seen).toEqual([down]);
  });

  it("any other failure is a 500 that names no detail of it", async () => {
    const app = await appThrowing(new Error("secret internals"), (err) => err instanceof DriverDown);
    const res = await app.inject({ method: "GET", url: "/thing" });
    expect(res.statusCode).toBe(500);
    expect(res.headers["retry-after"]).toBeUndefined();
    expect(res.json()).toMatchObject({ status: 500, type: expect.stringMatching(/internal$/) });
    expect(res.body).not.toContain("secret internals");
  });

  it("a route's own problem goes out as it is, whatever the predicate says", async () => {
    const app = await appThrowing(new Problem(409, "Conflict", "already held", "already-held"), () => true);
    const res = await app.inject({ method: "GET", url: "/thing" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ status: 409, detail: "already held" });
  });
});
