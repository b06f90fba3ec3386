/* Stands for a third-party analytics script in the demo: base.html loads it with
   {% journey_consented_script "analytics" %}, so it runs only after the visitor accepts. */
window.demoAnalyticsLoaded = (window.demoAnalyticsLoaded || 0) + 1;
