package result

// MaxProfileBytes lets tests lower the bound ReadProfile enforces.
var MaxProfileBytes = &maxProfileBytes
