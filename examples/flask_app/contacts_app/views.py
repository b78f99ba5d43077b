"""Two pages: create a Salesforce contact (explicit commit), list contacts read back."""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from contacts_app import sequin
from sequin_orm.errors import CommitError
from sequin_orm.models import salesforce

contacts = Blueprint("contacts", __name__)

MAX_LISTED = 200


@contacts.route("/", methods=["GET", "POST"])
def new_contact() -> str | Response | tuple[str, int]:
    """GET: the form. POST: create the contact, commit, go to the list."""
    form = {k: request.form.get(k, "").strip() for k in ("first_name", "last_name", "email")}
    if request.method == "GET":
        return render_template("new.html", form=form, error=None)
    if not form["last_name"]:
        return render_template("new.html", form=form, error="Last name is required."), 400
    salesforce.Contact(
        FirstName=form["first_name"] or None,
        LastName=form["last_name"],
        Email=form["email"] or None,
    ).save()  # enqueued in this request's session
    try:
        sequin.commit()  # one create request
    except CommitError as error:
        sequin.rollback()
        message = "; ".join(str(e) for e in error.result.errors)
        return render_template("new.html", form=form, error=message), 422
    return redirect(url_for("contacts.contact_list", created=1))


@contacts.route("/contacts/")
def contact_list() -> str:
    """The Salesforce contacts of the sync, through ``GET /v1/records``."""
    records = salesforce.Contact.objects.using(sequin.client).iter()
    listed = [c for c in islice(records, MAX_LISTED) if not c.deleted]
    return render_template("list.html", contacts=listed, created=request.args.get("created") == "1")
