// Which replica writes a (repository, branch): one writer per branch across every process that
// shares the store. On PostgreSQL the lease is a session advisory lock on a connection of its
// own, so it ends with the process that holds it (a crash, a SIGKILL, a lost network): the
// kernel closes the socket, PostgreSQL drops the session and its locks, and the next replica to
// poll takes the branch over. On SQLite one process owns the database file, so holding is
// trivially true.
import pg from "pg";
import { pgSearchPathOption, type DatabaseTarget } from "./databaseUrl.js";

export interface BranchLease {
  /** True when this process holds the lease of `key` (taking it if it is free). */
  hold(key: string): Promise<boolean>;
  /** The keys this process holds right now. */
  held(): string[];
  /** Gives every lease up (shutdown). */
  close(): Promise<void>;
}

/** Single-process stores: every branch is this process's. */
export class LocalBranchLease implements BranchLease {
  private readonly keys = new Set<string>();
  hold(key: string): Promise<boolean> {
    this.keys.add(key);
    return Promise.resolve(true);
  }
  held(): string[] {
    return [...this.keys];
  }
  close(): Promise<void> {
    this.keys.clear();
    return Promise.resolve();
  }
}

// The schema is part of the key: replicas of different deployments may share a database.
const LOCK_KEY_SQL = "hashtextextended('relengd-writer:' || $1 || ':' || $2, 0)";

export class PostgresBranchLease implements BranchLease {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private readonly keys = new Set<string>();
  private closed = false;

  constructor(
    private readonly target: DatabaseTarget,
    private readonly onLost: (keys: string[], err: unknown) => void = () => undefined,
  ) {}

  async hold(key: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.keys.has(key) && this.client) return true;
    const client = await this.connect();
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY_SQL}) AS ok`, [this.target.schema, key]);
    // The connection may have died while the query ran; then the lock died with it.
    if (rows[0]?.ok && this.client === client) {
      this.keys.add(key);
      return true;
    }
    return false;
  }

  held(): string[] {
    return this.client ? [...this.keys] : [];
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    this.keys.clear();
    // Ending the session releases every advisory lock it holds.
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.target.location,
        options: pgSearchPathOption(this.target.schema),
        // A half-open connection must not keep a lease the server has already given away.
        keepAlive: true,
        keepAliveInitialDelayMillis: 5_000,
      });
      const lost = (err: unknown) => {
        if (this.client !== client) return;
        this.client = null;
        const keys = [...this.keys];
        this.keys.clear();
        if (!this.closed) this.onLost(keys, err);
      };
      client.on("error", lost);
      client.on("end", () => lost(new Error("lease connection ended")));
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}

export function branchLeaseFor(target: DatabaseTarget, onLost?: (keys: string[], err: unknown) => void): BranchLease {
  return target.provider === "postgresql" ? new PostgresBranchLease(target, onLost) : new LocalBranchLease();
}
