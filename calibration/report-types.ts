/**
 * The shapes of the calibration report (report.ts): its options, the posterior-predictive
 * check, a point of the price-response curve, the figures written to `<report>-figures.json`
 * and the report built from a CalibrationResult (figures, chart specs, predictive check).
 */
import type { ScenarioInput } from '../scenarios/schema.js';
import type { ReportChart } from '../experiments/report/charts.js';
import type { CalibrationResult } from './calibrate.js';

export interface ReportOptions {
  /** Seed of the parameter draws and the simulated markets (default 1). */
  readonly seed?: number;
  /** Parameter draws, one simulated history each (default 200). */
  readonly draws?: number;
  /** The scenario to simulate (default: the calibrated one, result.scenario). */
  readonly scenario?: ScenarioInput;
  /** Points of the price-response curve (default 40). */
  readonly pricePoints?: number;
  /** Largest count of rows drawn in a scatter (evenly spaced rows beyond it; default 4000). */
  readonly maxScatterRows?: number;
}

export interface PredictiveCheck {
  readonly draws: number;
  readonly seed: number;
  readonly scenarioId: string;
  readonly rows: number;
  /** Share of rows whose observed units lie inside their simulated central 90% band. */
  readonly coverage90: number;
  readonly lower: Float64Array;
  readonly median: Float64Array;
  readonly upper: Float64Array;
  readonly method: string;
}

export interface PricePoint {
  readonly price: number;
  readonly units: number;
  readonly unitsLower: number;
  readonly unitsUpper: number;
  readonly profit: number;
  readonly profitLower: number;
  readonly profitUpper: number;
}

/** Every figure of the report, as written to `<report>-figures.json`. */
export interface ReportFigures {
  readonly scenarioId: string;
  readonly source: CalibrationResult['record']['source'];
  readonly estimates: CalibrationResult['record']['estimates'];
  readonly derived: CalibrationResult['record']['derived'];
  readonly fit: {
    readonly likelihood: string;
    readonly logLikelihood: number;
    readonly dispersion: number;
    readonly dispersionSize: number | null;
    readonly meanElasticity: number;
    /** The fitted law's plug-in 90% band (calibrate.ts), every row. */
    readonly predictiveCoverage90: number;
  };
  readonly holdout: CalibrationResult['holdout'] | null;
  readonly posteriorPredictive: { readonly draws: number; readonly seed: number; readonly scenarioId: string; readonly rows: number; readonly coverage90: number; readonly method: string };
  readonly priceResponse: { readonly unitCost: number; readonly method: string; readonly curve: readonly PricePoint[] };
  /** Each chart's data, by chart name, exactly as in its vega-lite spec. */
  readonly charts: Record<string, unknown>;
}

export interface CalibrationReport {
  readonly figures: ReportFigures;
  readonly charts: readonly ReportChart[];
  readonly predictive: PredictiveCheck;
}
