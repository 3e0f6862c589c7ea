// Show "Sign out" instead of "Sign in" once the display-only sign-in cookie is set (it grants nothing).
if (/(?:^|; )mb_signed_in=1/.test(document.cookie)) document.documentElement.classList.add("mb-signed-in");
