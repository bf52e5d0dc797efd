import { classifyDashScopeAnswer } from './qwen.errors';

/**
 * Every row of DashScope's error table (docs/dashscope.md, from Alibaba's error-code page), read
 * as the code, status and message the provider sends: what the fleet must do for each.
 */
describe('classifyDashScopeAnswer', () => {
  test.each([
    [429, 'Throttling', 'Requests throttling triggered.', 'throttle'],
    [429, 'Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.', 'throttle'],
    [429, 'Throttling.RateQuota', 'Request rate increased too quickly, please try again later.', 'throttle'],
    [429, 'Throttling.AllocationQuota', 'Free allocated quota exceeded.', 'pause'],
    [429, 'CommodityNotPurchased', 'Commodity has not purchased yet.', 'pause'],
    [429, 'PrepaidBillOverdue', 'The prepaid bill is overdue.', 'pause'],
    [429, 'PostpaidBillOverdue', 'The postpaid bill is overdue.', 'pause'],
    [400, 'Arrearage', 'Access denied, please make sure your account is in good standing.', 'pause'],
    [403, 'Arrearage', 'Access denied, please make sure your account is in good standing.', 'pause'],
    [401, 'InvalidApiKey', 'Invalid API-key provided.', 'pause'],
    [403, 'AccessDenied', 'Access denied.', 'pause'],
    [403, 'AccessDenied.Unpurchased', 'Access to model denied. Please make sure you are eligible for using the model.', 'pause'],
    [404, 'ModelNotFound', 'Model not found (qwen-image-edit-pro)!', 'pause'],
    [400, 'InvalidParameter', 'Model not exist.', 'pause'],
    [400, 'InvalidParameter', 'The image size is not valid.', 'fail'],
    [400, 'BadRequest.EmptyInput', 'Required input parameter missing from request.', 'fail'],
    [400, 'InvalidURL', 'The provided URL is not valid.', 'fail'],
    [400, 'BadRequest.InputDownloadFailed', 'Failed to download the input image.', 'fail'],
    [400, 'DataInspectionFailed', 'Input data may contain inappropriate content.', 'fail'],
    [400, 'InvalidParameter.DataInspection', 'The media format is not supported or incorrect for the data inspection.', 'fail'],
    [413, 'BadRequest.TooLarge', 'Payload Too Large', 'shrink'],
    [408, 'RequestTimeOut', 'Request timed out, please try again later.', 'retry'],
    [500, 'InternalError', 'An internal error has occured, please try again later.', 'retry'],
    [500, 'InternalError.Algo', 'Algorithm process error.', 'retry'],
    [503, undefined, '', 'retry'],
  ])('%i %s "%s" → %s', (status, code, message, expected) => {
    expect(classifyDashScopeAnswer(status, code, message)).toBe(expected);
  });
});
