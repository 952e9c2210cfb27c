/** PromQL as the deployment checks read it: the Prometheus project's own grammar (@prometheus-io/lezer-promql). */
import { parser } from '@prometheus-io/lezer-promql';

export interface PromqlReport {
  /** Metric names of the expression's vector and range selectors. */
  metrics: string[];
  /** Syntax errors (their positions in the expression); empty when it parses. */
  errors: string[];
}

export function readPromql(expr: string): PromqlReport {
  const tree = parser.parse(expr);
  const metrics = new Set<string>();
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) metrics.add(expr.slice(name.from, name.to));
      }
    },
  });
  return { metrics: [...metrics].sort(), errors };
}

/** A histogram's series: `x_bucket`, `x_sum`, `x_count` belong to the histogram `x`. */
export const seriesOf = (metric: string): string[] => [metric, `${metric}_bucket`, `${metric}_sum`, `${metric}_count`];
