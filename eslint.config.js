// Lint: typescript-eslint's recommended rules, plus the layering rule of DESIGN.md for src/domain.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/store/generated/**", "data/**", "coverage/**"] },
  ...tseslint.configs.recommended,
  // src/ gets the rules that need the types too; tests and benchmarks keep the plain set, as
  // linting them with types costs more than it finds.
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ["src/**/*.ts"] })),
  {
    files: ["src/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Every string a schema accepts is well-formed Unicode (src/domain/text.ts), so a schema
    // that forgets the rule is refused here rather than found by a 500.
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name='z'][callee.property.name='string']",
          message: "use wellFormedString() from src/domain/text.ts: strings must be well-formed Unicode",
        },
        {
          selector: "MemberExpression[object.object.name='z'][object.property.name='coerce'][property.name='string']",
          message: "use wellFormedString() from src/domain/text.ts: strings must be well-formed Unicode",
        },
        {
          selector: "CallExpression[callee.object.name='z'][callee.property.name=/^(url|email|httpUrl)$/]:not(CallExpression[callee.name='wellFormed'] > CallExpression)",
          message: "wrap it in wellFormed() from src/domain/text.ts: strings must be well-formed Unicode",
        },
      ],
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["fastify", "fastify-*", "@fastify/*", "@prisma/*", "prisma", "simple-git", "pg", "better-sqlite3", "amqplib"], message: "src/domain is pure: no I/O libraries" },
            { group: ["node:fs", "node:fs/*", "fs", "node:child_process", "node:net", "node:http"], message: "src/domain is pure: no I/O" },
            {
              group: ["**/api/**", "**/store/**", "**/gitops/**", "**/flow/**", "**/cli/**", "**/policy/**", "**/bus/**", "**/auth/**", "**/config.js", "**/main.js", "**/logger.js"],
              message: "src/domain imports nothing outside itself",
            },
          ],
        },
      ],
    },
  },
);
