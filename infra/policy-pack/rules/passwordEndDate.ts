import type { ResourceValidationPolicy } from '@pulumi/policy'

const YEAR_MS = 366 * 86_400_000

/**
 * A client secret must expire, within a year of when it is issued, and not before it is used: Graph
 * refuses a password credential whose end date is already past (and one issued with a past end date
 * would be useless). Each password keeps the end date it was issued with, so an expired one fails
 * here until it is rotated away.
 */
export const passwordEndDate: ResourceValidationPolicy = {
  name: 'application-password-end-date',
  description: 'Application passwords must have an end date in the future and within a year.',
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
    const now = Date.now()
    const end = Date.parse(props.endDate)
    const start = props.startDate === undefined ? now : Date.parse(props.startDate)
    if (Number.isNaN(end)) report(`endDate '${props.endDate}' is not a date`)
    else if (end <= now)
      report(
        `endDate ${props.endDate} is in the past: rotate (add one to tourniquet:secretRotation) to issue a new secret`,
      )
    else if (end - Math.min(start, now) > YEAR_MS)
      report(`endDate ${props.endDate} is more than a year away; rotate at least yearly`)
  },
}
