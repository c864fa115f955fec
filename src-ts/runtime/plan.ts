/**
 * The plan handed to sysbox-init: one step per line, fields separated by tabs. A field escapes
 * backslash, tab and newline, so any string without a NUL byte travels unchanged.
 */
export type Step = readonly string[];

function escapeField(field: string): string {
  if (field.includes('\0')) throw new RangeError(`plan field holds a NUL byte: ${field}`);
  return field.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

export class Plan {
  readonly steps: Step[] = [];

  add(...fields: (string | number)[]): this {
    this.steps.push(fields.map(String));
    return this;
  }

  addAll(steps: readonly Step[]): this {
    for (const s of steps) this.steps.push(s);
    return this;
  }

  text(): string {
    return this.steps.map((s) => s.map(escapeField).join('\t')).join('\n') + '\nend\n';
  }
}
