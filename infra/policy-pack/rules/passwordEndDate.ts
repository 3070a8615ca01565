import type { ResourceValidationPolicy } from '@pulumi/policy'

const YEAR_MS = 366 * 86_400_000

/** A client secret must expire, within a year of when it starts. */
export const passwordEndDate: ResourceValidationPolicy = {
  name: 'application-password-end-date',
  description: 'Application passwords must have an end date within a year.',
  enforcementLevel: 'mandatory',
  validateResource: (args, report) => {
    if (args.type !== 'azuread:index/applicationPassword:ApplicationPassword') return
    const props = args.props as { endDate?: string; endDateRelative?: string; startDate?: string }
    if (props.endDateRelative !== undefined) {
      report('use endDate (an absolute date) rather than endDateRelative, so the expiry is reviewable')
      return
    }
    if (props.endDate === undefined) {
      report('endDate must be set: a client secret must expire')
      return
    }
    const end = Date.parse(props.endDate)
    const start = props.startDate === undefined ? Date.now() : Date.parse(props.startDate)
    if (Number.isNaN(end)) report(`endDate '${props.endDate}' is not a date`)
    else if (end - Math.min(start, Date.now()) > YEAR_MS)
      report(`endDate ${props.endDate} is more than a year away; rotate at least yearly`)
  },
}
