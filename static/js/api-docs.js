// Lists the API's endpoints from the live OpenAPI schema, as a GOV.UK table.
// Progressive enhancement: without JavaScript the page still offers the schema download.
(function () {
  'use strict';
  var holder = document.getElementById('api-endpoints');
  if (!holder || !window.fetch) { return; }
  var url = holder.getAttribute('data-schema-url');
  var separator = url.indexOf('?') === -1 ? '?' : '&';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // "pupils_list" -> "List pupils"; "alerts_acknowledge_create" -> "Acknowledge one of the alerts".
  function describe(operationId) {
    var words = operationId.split('_');
    var resource = words[0];
    var verb = words[words.length - 1];
    var action = words.slice(1, -1).join(' ');
    if (action) { return action.charAt(0).toUpperCase() + action.slice(1) + ' one of the ' + resource; }
    if (verb === 'list') { return 'List ' + resource; }
    if (verb === 'retrieve') { return 'Get one of the ' + resource; }
    if (verb === 'create') { return 'Create one of the ' + resource; }
    if (verb === 'update' || verb === 'partial') { return 'Change one of the ' + resource; }
    if (verb === 'destroy') { return 'Delete one of the ' + resource; }
    return operationId;
  }

  fetch(url + separator + 'format=json', { credentials: 'same-origin', headers: { Accept: 'application/vnd.oai.openapi+json, application/json' } })
    .then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    })
    .then(function (schema) {
      holder.appendChild(el('h2', 'govuk-heading-m', 'Endpoints'));
      var table = el('table', 'govuk-table');
      var caption = el('caption', 'govuk-table__caption govuk-visually-hidden', 'API endpoints');
      table.appendChild(caption);
      var head = el('thead', 'govuk-table__head');
      var headRow = el('tr', 'govuk-table__row');
      ['Method', 'Path', 'What it does'].forEach(function (label) {
        var th = el('th', 'govuk-table__header', label);
        th.setAttribute('scope', 'col');
        headRow.appendChild(th);
      });
      head.appendChild(headRow);
      table.appendChild(head);
      var body = el('tbody', 'govuk-table__body');
      Object.keys(schema.paths || {}).sort().forEach(function (path) {
        var operations = schema.paths[path];
        Object.keys(operations).forEach(function (method) {
          var op = operations[method];
          if (typeof op !== 'object' || !op.operationId) { return; }
          var row = el('tr', 'govuk-table__row');
          var methodCell = el('td', 'govuk-table__cell');
          methodCell.appendChild(el('strong', 'govuk-tag govuk-tag--grey', method.toUpperCase()));
          row.appendChild(methodCell);
          var pathCell = el('td', 'govuk-table__cell');
          pathCell.appendChild(el('code', 'app-code', path));
          row.appendChild(pathCell);
          row.appendChild(el('td', 'govuk-table__cell', op.summary || describe(op.operationId)));
          body.appendChild(row);
        });
      });
      table.appendChild(body);
      var container = el('div', 'app-table-container');
      container.appendChild(table);
      holder.appendChild(container);
    })
    .catch(function () {
      holder.appendChild(el('p', 'govuk-body', 'The list of endpoints could not be loaded. Download the schema instead.'));
    });
})();
