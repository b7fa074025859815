/** API registrations: CustomResourceDefinition and APIService. */
import { condition, conditions, type Obj } from '../read.ts';
import { current, failed, inProgress, type Health } from '../types.ts';

/**
 * A CRD serves once Established. Names that clash with another CRD (NamesAccepted=False) or an
 * Established=False for any reason but Installing will not fix themselves: Failed.
 */
export function crdHealth(obj: Obj): Health {
  for (const c of conditions(obj)) {
    if (c.type === 'NamesAccepted' && c.status === 'False')
      return failed(c.reason ?? 'NamesNotAccepted', c.message ?? 'CRD names not accepted');
    if (c.type !== 'Established') continue;
    if (c.status === 'True') return current('CRD is established');
    if (c.status === 'False' && c.reason !== 'Installing')
      return failed(c.reason ?? 'NotEstablished', c.message ?? 'CRD not established');
  }
  return inProgress('Installing', 'CRD not established yet');
}

/**
 * An APIService serves once Available. Not in kstatus (which would call it Current). False is
 * InProgress: the aggregator keeps checking, and the backing Deployment may still be starting.
 */
export function apiServiceHealth(obj: Obj): Health {
  const available = condition(conditions(obj), 'Available');
  if (available?.status === 'True') return current(available.message ?? 'APIService is available');
  if (available === undefined)
    return inProgress('NotObserved', 'APIService not checked by the aggregator yet');
  return inProgress(available.reason ?? 'NotAvailable', available.message ?? 'APIService not available');
}
