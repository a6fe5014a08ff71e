// Lint: typescript-eslint's recommended rules, plus the layering rule of DESIGN.md for src/domain.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/store/generated/**", "data/**", "coverage/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
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
