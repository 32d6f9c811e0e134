export { formatRuleFileError, loadRuleFiles, parseRuleFile, type LoadResult, type LoadRuleFilesOptions, type RuleFileError } from './load.js';
