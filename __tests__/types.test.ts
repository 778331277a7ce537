import { join } from "node:path";
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
