/** Calibration: from a shop's sales history to a scenario file, with intervals and a report (docs/calibration.md). */
export { calibrateFile, calibrateSales, type CalibrateOptions, type CalibrationResult, type HoldoutReport, type PeriodLength } from './calibrate.js';
export { columnMapSchema, defaultColumnMap, parseColumnMap, type ColumnMap, type ColumnMapInput } from './column-map.js';
export { readSales, type SalesData, type ReadSalesOptions } from './reader.js';
export { fitLogitPoisson, logitShare, parameterNames, type LogitPoissonData, type LogitPoissonFit, type ParameterEstimate, type FitOptions } from './logit-poisson.js';
export { historicalOptionsFor, historicalPath, historicalPrefix, parseHistoricalSpec, readHistoricalPolicy, type HistoricalOptions, type HistoricalSpec } from './historical.js';
export { competitorKinds, fitCompetitorStrategies, fitRivalStrategy, type CompetitorFitOptions, type CompetitorKind, type PriceHistory, type RivalStrategyFit, type StrategyCandidate } from './competitors.js';
export { estimateEndogeneity, priceInstruments, leastSquares, twoStageLeastSquares, type EndogeneityOptions, type EndogeneityResult, type PriceInstrument } from './endogeneity.js';
export { estimateInvertedShares, type InvertedSharesOptions, type InvertedSharesRecord } from './inverted-shares.js';
export { calibrationReport, checkReportPath, posteriorPredictiveCheck, priceResponse, writeCalibrationReport, type CalibrationReport, type PredictiveCheck, type ReportFigures, type ReportOptions } from './report.js';
export { estimateReferencePrices, type ReferencePriceEstimate, type ReferencePriceOptions } from './reference-prices.js';
export { referencePriceSeries } from './reference-price-design.js';
export { applyReferencePrices } from './reference-price-scenario.js';
export { applyAggregateSegments, applyPanelSegments, fitLatentClassLogit, readChoicePanel, selectLatentClasses, testSecondSegment, type AggregateSegmentTest, type ChoicePanel, type LatentClassFit, type LatentClassSelection } from './segments.js';
