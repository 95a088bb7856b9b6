package mint

// AsError lets the black-box tests read the *Error a dialect answers with.
var AsError = asError
