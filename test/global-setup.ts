// Says, once per run, which suites run against which real services and which are skipped.
export default function setup(): void {
  const lines: string[] = [];
  lines.push(
    process.env.TEST_DATABASE_URL
      ? `PostgreSQL suites: running against ${redact(process.env.TEST_DATABASE_URL)}`
      : "PostgreSQL suites: SKIPPED (set TEST_DATABASE_URL=postgresql://… to run them; .ci/run does)",
  );
  lines.push(
    process.env.TEST_AMQP_URL
      ? `RabbitMQ suites: running against ${redact(process.env.TEST_AMQP_URL)}`
      : "RabbitMQ suites: SKIPPED (set TEST_AMQP_URL=amqp://… to run them; .ci/run does)",
  );
  console.log(["", "relengd test services:", ...lines.map((l) => "  " + l), ""].join("\n"));
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
