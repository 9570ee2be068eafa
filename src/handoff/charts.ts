/**
 * The Helm charts the hand-off's values are written for: per Flyte target, the chart, the version the values were
 * made and tested for (every printed `helm` command pins it: without `--version` Helm installs the newest
 * flyte-binary, Flyte 2, where Flyte 1 values silently do nothing), the release name, and the values file.
 */
import type { Target } from '../config/schema.js';

export const FLYTE_HELM_REPO = 'https://flyteorg.github.io/flyte';

export interface ChartSpec {
  /** The chart's name in the flyteorg repository. */
  chart: 'flyte-binary' | 'flyte-core';
  /** The chart version (as published, with its `v`). */
  version: string;
  /** Which Flyte it installs. */
  flyte: 'Flyte 1' | 'Flyte 2';
  /** The release name of the printed command (flyte-binary names its service account after it). */
  release: string;
  /** The hand-off's values file. */
  valuesFile: string;
  /** The chart's own example values for EKS, which ours merge over (none for Flyte 2's chart). */
  eksExample?: string;
}

export type FlyteTarget = Exclude<Target, 'union'>;

export const CHARTS: Record<FlyteTarget, ChartSpec> = {
  'flyte-binary': {
    chart: 'flyte-binary',
    version: 'v1.16.8',
    flyte: 'Flyte 1',
    release: 'flyte-backend',
    valuesFile: 'flyte-binary-values.yaml',
    eksExample: 'eks-starter.yaml',
  },
  'flyte-core': {
    chart: 'flyte-core',
    version: 'v1.16.8',
    flyte: 'Flyte 1',
    release: 'flyte',
    valuesFile: 'flyte-core-values.yaml',
    eksExample: 'values-eks.yaml',
  },
  flyte2: {
    chart: 'flyte-binary',
    version: 'v2.0.42',
    flyte: 'Flyte 2',
    release: 'flyte-backend',
    valuesFile: 'flyte-binary-v2-values.yaml',
  },
};

export function chartOf(target: Target): ChartSpec | undefined {
  return target === 'union' ? undefined : CHARTS[target];
}

/** `helm install` of the chart at the pinned version, the operator's values first and ours last. */
export function helmInstallCommand(spec: ChartSpec, namespace: string, valuesPath: string): string {
  return (
    `helm install ${spec.release} flyteorg/${spec.chart} --version ${spec.version} --namespace ${namespace} ` +
    `--create-namespace --values YOUR-VALUES.yaml --values ${valuesPath}`
  );
}

export function helmRepoCommand(): string {
  return `helm repo add flyteorg ${FLYTE_HELM_REPO}`;
}
