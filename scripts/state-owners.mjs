// STYLE 16 (one owner per state), checked with the TypeScript checker over src/: every write to a property of a
// named type declared in src/ (`x.p = …`, `x.p += …`, `x.p++`, `delete x.p`, `x[k] = …` on such a type) is
// attributed to the file it is in; a type written from more than one file is a shared bag of state. Prints each such
// type with its writing files and exits 1 when there is one not in KNOWN. `--list` prints every written type and
// its writers. `npm test` runs it (scripts/test.mjs).
import ts from 'typescript';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src') + path.sep;
const configPath = path.join(root, 'tsconfig.json');
const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
const program = ts.createProgram({ rootNames: config.fileNames.filter((f) => f.startsWith(src)), options: config.options });
const checker = program.getTypeChecker();

/** Issue 20 measured 11 state types written from several files (9 by this script); none is left, and none may come back. */
const KNOWN = new Set();

/** type name (with its declaring file) → files that write one of its properties → count. */
const writers = new Map();
const rel = (f) => path.relative(root, f);

/** The named types in src/ that an expression's type is (a union's members each). */
function namedTypes(expr) {
  const out = [];
  const visit = (type) => {
    if (type.isUnion()) return type.types.forEach(visit);
    if (type.isIntersection()) return type.types.forEach(visit);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const decl = symbol?.declarations?.[0];
    if (!decl) return;
    const file = decl.getSourceFile().fileName;
    if (!file.startsWith(src)) return;
    if (ts.isTypeLiteralNode(decl) || ts.isObjectLiteralExpression(decl) || symbol.name === '__type' || symbol.name === '__object') return; // anonymous
    out.push(`${symbol.name} (${rel(file)})`);
  };
  visit(checker.getTypeAtLocation(expr));
  return out;
}

function record(target, file) {
  const t = ts.skipPartiallyEmittedExpressions(target);
  if (!ts.isPropertyAccessExpression(t) && !ts.isElementAccessExpression(t)) return;
  for (const name of namedTypes(t.expression)) {
    const byFile = writers.get(name) ?? new Map();
    byFile.set(rel(file), (byFile.get(rel(file)) ?? 0) + 1);
    writers.set(name, byFile);
  }
}

const ASSIGN = new Set([
  ts.SyntaxKind.EqualsToken, ts.SyntaxKind.PlusEqualsToken, ts.SyntaxKind.MinusEqualsToken, ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken, ts.SyntaxKind.PercentEqualsToken, ts.SyntaxKind.BarEqualsToken, ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken, ts.SyntaxKind.GreaterThanGreaterThanEqualsToken, ts.SyntaxKind.CaretEqualsToken,
]);
for (const sf of program.getSourceFiles()) {
  if (!sf.fileName.startsWith(src)) continue;
  const walk = (node) => {
    if (ts.isBinaryExpression(node) && ASSIGN.has(node.operatorToken.kind)) record(node.left, sf.fileName);
    else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)) record(node.operand, sf.fileName);
    else if (ts.isDeleteExpression(node)) record(node.expression, sf.fileName);
    ts.forEachChild(node, walk);
  };
  walk(sf);
}

const shared = [...writers].filter(([, byFile]) => byFile.size > 1).sort(([a], [b]) => a.localeCompare(b));
if (process.argv.includes('--list')) {
  for (const [name, byFile] of [...writers].sort(([a], [b]) => a.localeCompare(b))) console.log(`${name}: ${[...byFile].map(([f, n]) => `${f} ×${n}`).join(', ')}`);
  console.log('');
}
for (const [name, byFile] of shared) {
  console.log(`${KNOWN.has(name) ? 'known: ' : ''}${name} is written from ${byFile.size} files: ${[...byFile].map(([f, n]) => `${f} ×${n}`).join(', ')}`);
}
const fresh = shared.filter(([name]) => !KNOWN.has(name));
console.log(`state types written from more than one file: ${shared.length} (of ${writers.size} written types), ${fresh.length} not known`);
process.exit(fresh.length === 0 ? 0 : 1);
