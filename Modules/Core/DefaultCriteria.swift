/// The criteria `calor init` and the server install on an empty database: a B2B example to adapt.
public enum DefaultCriteria {
    public static let document = """
        # Calor's default criteria: a starting point for a B2B company. Adapt them, then
        # `calor criteria apply FILE --dry-run` to preview and `calor criteria apply FILE` to use them.
        thresholds: { warm: 40, hot: 70 }
        grades: { A: 40, B: 25, C: 10 }

        fit:
          # Sector and company size
          - id: target-sector
            if: { field: industry, in: [software, saas, fintech, ecommerce, it services] }
            points: 10
          - id: large-company
            if: { field: company_size, gte: 200 }
            points: 10
          - id: mid-size-company
            if: { all: [{ field: company_size, gte: 50 }, { field: company_size, lt: 200 }] }
            points: 5
          # Purchasing power
          - id: large-budget
            if: { field: budget, gte: 50000 }
            points: 15
          - id: some-budget
            if: { all: [{ field: budget, gte: 10000 }, { field: budget, lt: 50000 }] }
            points: 8
          # Geography
          - id: served-country
            if: { field: country, in: [FR, DE, GB, ES, IT, NL, BE, CH, US, CA] }
            points: 5
          # Negatives
          - id: free-mail
            if: { field: email, domain_in: [gmail.com, yahoo.com, yahoo.fr, hotmail.com, hotmail.fr, outlook.com, live.com, aol.com, icloud.com, gmx.de, orange.fr, free.fr] }
            points: -10

        engagement:
          # Expressed interest
          - id: quote-or-demo
            event: [quote_requested, demo_requested]
            points: 40
            half_life: 60d
          - id: pricing-page
            event: page_viewed
            where: { field: path, starts_with: /pricing }
            points: 5
            cap: 20
            half_life: 30d
          - id: ebook
            event: ebook_downloaded
            points: 10
            cap: 20
            half_life: 60d
          - id: form
            event: form_submitted
            points: 8
            cap: 16
            half_life: 60d
          # Engagement
          - id: email-opens
            event: email_opened
            points: 1
            cap: 10
            half_life: 14d
          - id: email-clicks
            event: email_clicked
            points: 3
            cap: 15
            half_life: 14d
          - id: repeat-visits
            event: page_viewed
            points: 1
            cap: 10
            half_life: 14d
          - id: cart
            event: [cart_added, favorite_added]
            points: 6
            cap: 18
            half_life: 14d
          - id: ad-clicks
            event: ad_clicked
            points: 3
            cap: 9
            half_life: 14d
          - id: social
            event: social_liked
            points: 1
            cap: 5
            half_life: 30d
          # Negatives
          - id: unsubscribed
            event: email_unsubscribed
            points: -20
            window: 180d

        disqualify:
          # Competition
          - id: competitor
            if: { field: email, domain_in: [competitor.example] }
          # Students and job seekers
          - id: student-or-job-seeker
            if: { field: job_title, matches: 'student|intern|job seeker|looking for' }
          - id: careers-form
            event: form_submitted
            where: { field: form, in: [careers, jobs, job application] }
        """
}
