import ts from 'typescript';

/*
 * Finds SQL built from non-constant values in TypeScript source: a template literal that reads as
 * SQL with a `${…}` substitution, a `+` joining SQL text with anything but another literal, and a
 * `.query()` whose text is computed by a call. Each allowed exception names the exact expression
 * (a constant identifier) in the exact file, so a new one has to be argued for in review.
 */

export interface SqlFinding {
  file: string;
  line: number;
  kind: 'interpolation' | 'concatenation' | 'computed query';
  expression: string;
}

/** file (relative, forward slashes) → expressions allowed inside SQL there. */
export type SqlAllowList = Record<string, readonly string[]>;

const SQL_START = /^\s*\(?\s*(select|insert|update|delete|with|create|alter|drop|truncate|copy|merge|call|do|listen|unlisten|notify|set|lock|grant|revoke|explain|vacuum|analyze)\b/i;
// A fragment of a statement (`… from ctgov.${t} where …`) reads as SQL too.
const SQL_FRAGMENT = /\b(from|into|update|join|table)\s+ctgov\.|\b(where|values|returning|order by|group by)\b.*\$\d/i;

function looksLikeSql(text: string): boolean {
  return SQL_START.test(text) || SQL_FRAGMENT.test(text);
}

/** The literal text of a string or template (substitutions as `${}`), or undefined. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => '${}' + s.literal.text).join('');
  return undefined;
}

export function scanSql(file: string, source: string, allow: SqlAllowList = {}): SqlFinding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const allowed = new Set(allow[file] ?? []);
  const findings: SqlFinding[] = [];
  const report = (node: ts.Node, kind: SqlFinding['kind'], expression: string) => {
    if (allowed.has(expression)) return;
    findings.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, kind, expression });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isTemplateExpression(node) && looksLikeSql(literalText(node)!)) {
      for (const span of node.templateSpans) report(span.expression, 'interpolation', span.expression.getText(sf));
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const [l, r] = [literalText(node.left), literalText(node.right)];
      const sqlSide = [l, r].some((t) => t !== undefined && looksLikeSql(t));
      if (sqlSide && (l === undefined || r === undefined)) report(node, 'concatenation', (l === undefined ? node.left : node.right).getText(sf));
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'query') {
      const text = node.arguments[0];
      if (text && ts.isCallExpression(text)) report(text, 'computed query', text.getText(sf));
      if (text && ts.isPropertyAccessExpression(text)) report(text, 'computed query', text.getText(sf));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}
