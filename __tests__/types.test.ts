import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import ts from "typescript";

/** Type-checks a file with the project's compiler options; the diagnostics, formatted. */
function typeCheck(file: string): string[] {
  const configPath = join(__dirname, "..", "tsconfig.json");
  const { config } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, join(__dirname, ".."));
  const program = ts.createProgram([file], { ...options, noEmit: true });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${diagnostic.file.fileName}:${line + 1}: ${message}`;
  });
}

test("event names and listener arguments are typed: typed-events.ts compiles, and each @ts-expect-error is an error", () => {
  expect(typeCheck(join(__dirname, "types", "typed-events.ts"))).toEqual([]);
}, 60_000);

test("a misspelled event name's error names the valid events of the providers configured, in a few lines", () => {
  const file = join(__dirname, "types", "typed-events.ts");
  const source = ts.sys.readFile(file) ?? "";
  // The same file, with the one directive on a misspelled name removed: its error is the message a user sees.
  const probe = join(mkdtempSync(join(tmpdir(), "imagegen-webhooks-types-")), "misspelled-event.ts");
  const marked = "// @ts-expect-error misspelled\n";
  expect(source).toContain(marked);
  ts.sys.writeFile(probe, source.replace(marked, ""));
  let errors: string[];
  try {
    errors = typeCheck(probe);
  } finally {
    rmSync(dirname(probe), { recursive: true, force: true });
  }
  expect(errors).toHaveLength(1);
  const [message = ""] = errors;
  expect(message).toContain(`'"crazyhorse.dnoe"' is not assignable to parameter of type '`);
  expect(message).toMatch(/"crazyhorse\.done"|"crazyhorse\.waiting"|"generation\.completed"/);
  // Only crazyhorse is configured there: no other provider's events are offered.
  expect(message).not.toMatch(/replicate|all-images/);
  expect(message).not.toContain("Provider<");
  expect(message.length).toBeLessThan(600);
}, 60_000);
